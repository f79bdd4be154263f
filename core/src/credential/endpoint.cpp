// Endpoint strings and derivation (docs/wire.md §5).
#include <string>

#include "../util/encoding.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth {

namespace {

bool valid_host_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  // No whitespace/control characters, and nothing that would turn the string into a URL.
  return u > 0x20 && u != 0x7F && c != '/' && c != '@' && c != '?' && c != '#' && c != '\\';
}

uint16_t parse_port(std::string_view p, std::string_view whole) {
  if (p.empty() || p.size() > 5) {
    throw_invalid("endpoint '" + std::string(whole) + "' has an invalid port");
  }
  uint32_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') throw_invalid("endpoint '" + std::string(whole) + "' has an invalid port");
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) {
    throw_invalid("endpoint '" + std::string(whole) + "' has a port outside 1-65535");
  }
  return static_cast<uint16_t>(v);
}

}  // namespace

Endpoint parse_endpoint(std::string_view s, bool secure) {
  if (s.empty()) throw_invalid("endpoint cannot be empty");
  if (s.size() > 1024 || !detail::is_valid_utf8(s)) throw_invalid("endpoint is not a valid host name");
  if (s.find("://") != std::string_view::npos) {
    throw_invalid("endpoint '" + std::string(s) + "' must be host or host:port, without a scheme");
  }
  Endpoint e;
  e.secure = secure;
  std::string_view host = s;
  if (s.front() == '[') {
    // Bracketed IPv6 literal, kept with its brackets so host:port stays unambiguous.
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) {
      throw_invalid("endpoint '" + std::string(s) + "' has a malformed IPv6 address");
    }
    host = s.substr(0, close + 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw_invalid("endpoint '" + std::string(s) + "' is malformed");
      e.port = parse_port(rest.substr(1), s);
    }
  } else {
    size_t colon = s.find(':');
    if (colon != std::string_view::npos) {
      if (s.find(':', colon + 1) != std::string_view::npos) {
        throw_invalid("endpoint '" + std::string(s) + "' has more than one ':' (use [addr]:port for IPv6)");
      }
      host = s.substr(0, colon);
      e.port = parse_port(s.substr(colon + 1), s);
    }
  }
  if (host.empty()) throw_invalid("endpoint '" + std::string(s) + "' has an empty host");
  for (char c : host) {
    if (!valid_host_char(c)) {
      throw_invalid("endpoint '" + std::string(s) + "' contains a character not allowed in a host name");
    }
  }
  e.host = std::string(host);
  return e;
}

Endpoints derive_endpoints(std::string_view base, std::string_view prefix, bool secure) {
  if (detail::is_blank(base)) throw_invalid("base endpoint cannot be empty");
  if (!prefix.empty() && (detail::is_blank(prefix) || prefix.find(':') != std::string_view::npos ||
                          prefix.front() == '.' || prefix.back() == '.')) {
    throw_invalid("endpoint prefix '" + std::string(prefix) + "' is not a valid host name label");
  }
  // Validate the base on its own first so errors name what the caller gave.
  Endpoint b = parse_endpoint(base, secure);
  if (prefix.empty() && b.host.front() != '[' && base.size() + 8 <= 1024) {
    // "<service>.<base>" parses to the base's port and "<service>." + its host whenever the
    // base is a valid, unbracketed host (parse_endpoint's checks hold for both): build the three
    // directly instead of parsing them again.
    auto make = [&](std::string_view service) {
      Endpoint e;
      e.host.reserve(service.size() + b.host.size());
      e.host.append(service).append(b.host);
      e.port = b.port;
      e.secure = b.secure;
      return e;
    };
    return Endpoints{make("control."), make("cache."), make("token.")};
  }
  std::string lead = prefix.empty() ? std::string() : std::string(prefix) + ".";
  auto make = [&](const char* service) {
    return parse_endpoint(lead + service + "." + std::string(base), secure);
  };
  return Endpoints{make("control"), make("cache"), make("token")};
}

Endpoints resolve_override(const EndpointOverride& o) {
  if (const auto* b = std::get_if<BaseEndpointOverride>(&o)) {
    return derive_endpoints(b->base_endpoint, b->endpoint_prefix, b->secure);
  }
  if (const auto* x = std::get_if<ExplicitEndpointsOverride>(&o)) {
    if (x->control.empty()) throw_invalid("explicit endpoint override: control endpoint is required");
    if (x->cache.empty()) throw_invalid("explicit endpoint override: cache endpoint is required");
    if (x->token.empty()) throw_invalid("explicit endpoint override: token endpoint is required");
    return Endpoints{parse_endpoint(x->control, x->secure), parse_endpoint(x->cache, x->secure),
                     parse_endpoint(x->token, x->secure)};
  }
  if (const auto* s = std::get_if<SingleEndpointOverride>(&o)) {
    if (s->address.empty()) throw_invalid("single endpoint override: address is required");
    Endpoint e = parse_endpoint(s->address, s->secure);
    return Endpoints{e, e, e};
  }
  throw_invalid("endpoint override is empty");
}

const char* credential_kind_name(CredentialKind kind) noexcept {
  switch (kind) {
    case CredentialKind::V1Envelope: return "v1_envelope";
    case CredentialKind::V2ApiKey: return "v2_api_key";
    case CredentialKind::LegacyJwt: return "legacy_jwt";
    case CredentialKind::SessionToken: return "session_token";
    case CredentialKind::Local: return "local";
  }
  return "unknown";
}

}  // namespace momento::auth
