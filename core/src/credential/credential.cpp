// Credential parsing (docs/wire.md §4): format detection, envelopes, JWT-shaped keys.
#include "momento/auth/credential.hpp"
#include "momento/auth/display.hpp"

#include <cstdlib>
#include <string>

#include "../util/secret_json.hpp"

#include "../util/encoding.hpp"
#include "../util/json_scan.hpp"
#include "../util/jwt.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth {

// Builds Credential values; the only code with access to its private state.
class CredentialBuilder {
 public:
  static Credential make(CredentialKind kind, std::string_view raw, std::string_view original,
                         std::string base, Endpoints endpoints) {
    Credential c;
    c.kind_ = kind;
    c.raw_key_ = Secret(std::string(raw));
    c.original_ = Secret(std::string(original));
    c.base_endpoint_ = std::move(base);
    c.endpoints_ = std::move(endpoints);
    return c;
  }
  static void set_override(Credential& c, const std::optional<EndpointOverride>& o) {
    if (!o) return;
    c.endpoints_ = resolve_override(*o);
    c.overridden_ = true;
  }
  static void set_overridden(Credential& c, bool v) { c.overridden_ = v; }
  static void set_file_fields(Credential& c, const Token& t) {
    c.refresh_token_ = t.refresh_token;
    // validUntil from the file is authoritative when it says the key expires; otherwise fall
    // back to what the key itself carries, and finally to "never".
    if (t.valid_until.does_expire()) {
      c.expires_at_ = t.valid_until;
    } else {
      c.never_without_exp_ = true;
    }
  }
};

namespace {

constexpr const char* kEnvelopeError = "failed to parse token: ";

// Length and encoding checks common to every entry point; returns the trimmed text.
std::string_view precheck(std::string_view s, const char* what) {
  if (s.size() > kMaxCredentialLength) {
    throw_invalid(std::string(what) + " is too long (" + std::to_string(s.size()) +
                  " bytes; the limit is " + std::to_string(kMaxCredentialLength) + ")");
  }
  if (!detail::is_valid_utf8(s)) throw_invalid(std::string(what) + " is not valid UTF-8");
  return detail::trim_ascii_whitespace(s);
}

bool is_v2_payload(const detail::JsonObject& payload) {
  const std::string_view* t = payload.string("t");
  return t && *t == "g";
}

struct EnvelopeFields {
  std::string_view api_key, endpoint;  // views into the decoded envelope
};

// Reads the members of a decoded envelope, which the fields point into.
EnvelopeFields read_envelope(std::string_view decoded, detail::JsonObject& j) {
  if (!detail::is_valid_utf8(decoded)) {
    throw_invalid(std::string(kEnvelopeError) + "decoded envelope is not UTF-8 text");
  }
  if (!j.parse(decoded)) {
    // Tell "not JSON" from "JSON, but not an object", as the general parser can.
    bool is_json = detail::is_json(decoded);
    throw_invalid(std::string(kEnvelopeError) +
                  (is_json ? "envelope JSON is not an object" : "decoded envelope is not JSON"));
  }
  auto member = [&](const char* name) {
    const detail::JsonMember* m = j.find(name);
    if (!m) throw_invalid(std::string(kEnvelopeError) + "envelope has no \"" + name + "\" member");
    if (m->type != detail::JsonMember::Type::String) {
      throw_invalid(std::string(kEnvelopeError) + "envelope \"" + name + "\" is not a string");
    }
    if (m->str.empty()) throw_invalid(std::string(kEnvelopeError) + "envelope \"" + name + "\" is empty");
    return m->str;
  };
  std::string_view endpoint = member("endpoint");
  return EnvelopeFields{member("api_key"), endpoint};
}

Credential parse_v1_or_legacy(std::string_view input, const std::optional<EndpointOverride>& o,
                              const char* v2_message) {
  std::string_view s = precheck(input, "credential string");
  if (s.empty()) throw_invalid("credential string cannot be empty");

  // Strict base64 (docs/wire.md §4.4) is a v1 envelope; anything else must be JWT-shaped.
  detail::WipedBuffer buf;
  char* decoded = buf.reserve(detail::base64_decoded_bound(s.size()));
  if (auto n = detail::base64_decode_into(s, decoded)) {
    detail::JsonObject j;
    EnvelopeFields f = read_envelope(std::string_view(decoded, *n), j);
    Endpoints eps;
    try {
      eps = derive_endpoints(f.endpoint);
    } catch (const Error& e) {
      throw_invalid(std::string(kEnvelopeError) + "envelope endpoint is invalid: " + e.what());
    }
    // The inner key's expiry is read when asked for (expires_at()), not here.
    Credential c = CredentialBuilder::make(CredentialKind::V1Envelope, f.api_key, s,
                                           std::string(f.endpoint), std::move(eps));
    CredentialBuilder::set_override(c, o);
    return c;
  }

  detail::JwtClaims jwt;
  if (!jwt.decode(s)) {
    throw_invalid("could not parse token: it is neither a base64 v1 envelope nor a JWT");
  }
  if (is_v2_payload(jwt.payload())) throw_invalid(v2_message);

  const std::string_view* cp = jwt.payload().string("cp");
  const std::string_view* c = jwt.payload().string("c");
  bool legacy = cp && !cp->empty() && c && !c->empty();
  if (!legacy) {
    if (!o) {
      throw_invalid(
          "Malformed token; unable to determine control endpoint (a session token needs "
          "endpoint overrides)");
    }
    Credential cred = CredentialBuilder::make(CredentialKind::SessionToken, s, s, "", {});
    CredentialBuilder::set_override(cred, o);
    return cred;
  }
  Endpoints eps;
  try {
    Endpoint control = parse_endpoint(*cp, true);
    Endpoint cache = parse_endpoint(*c, true);
    eps = Endpoints{control, cache, cache};  // token host = claim c (docs/wire.md §4.7 decision)
  } catch (const Error& e) {
    throw_invalid(std::string("legacy token has an invalid endpoint claim: ") + e.what());
  }
  Credential cred = CredentialBuilder::make(CredentialKind::LegacyJwt, s, s, "", std::move(eps));
  CredentialBuilder::set_override(cred, o);
  return cred;
}

// `s` as a JSON string, escaped as nlohmann::json's dump() escapes: '"', '\\' and control
// characters only (RFC 8259), '/' and non-ASCII UTF-8 as they are.
void append_json_string(detail::WipedString& out, std::string_view s) {
  out += '"';
  for (;;) {
    const size_t n = detail::json_plain_run(s);
    out.append(s.data(), n);
    if (n == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[n]);
    s.remove_prefix(n + 1);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(u, sizeof u);
      }
    }
  }
  out += '"';
}

}  // namespace

std::string encode_envelope(std::string_view endpoint, std::string_view api_key) {
  if (endpoint.empty()) throw_invalid("envelope endpoint cannot be empty");
  if (api_key.empty()) throw_invalid("envelope api_key cannot be empty");
  if (!detail::is_valid_utf8(endpoint)) throw_invalid("envelope endpoint is not valid UTF-8");
  if (!detail::is_valid_utf8(api_key)) throw_invalid("envelope api_key is not valid UTF-8");
  // Written directly (a refresh builds one per call): compact, endpoint first.
  detail::WipedString json;
  json.reserve(endpoint.size() + api_key.size() + 32);
  json += "{\"endpoint\":";
  append_json_string(json, endpoint);
  json += ",\"api_key\":";
  append_json_string(json, api_key);
  json += '}';
  return detail::base64_encode(json);
}

Credential Credential::from_string(std::string_view s, const std::optional<EndpointOverride>& o) {
  return parse_v1_or_legacy(
      s, o, "received a v2 API key on the v1/legacy path; use the v2 entry point with its endpoint");
}

Credential Credential::from_disposable_token(std::string_view s,
                                             const std::optional<EndpointOverride>& o) {
  return parse_v1_or_legacy(s, o,
                            "received a v2 API key where a disposable token (v1 envelope) was "
                            "expected");
}

Credential Credential::from_v2(std::string_view key, std::string_view endpoint,
                               const std::optional<EndpointOverride>& o) {
  std::string_view k = precheck(key, "API key");
  if (k.empty()) throw_invalid("API key cannot be an empty string");
  std::string_view e = precheck(endpoint, "endpoint");
  if (e.empty()) throw_invalid("Endpoint cannot be an empty string");
  detail::JwtClaims jwt;
  if (!jwt.decode(k) || !is_v2_payload(jwt.payload())) {
    throw_invalid("invalid v2 API key: expected a JWT with claim t == \"g\"");
  }
  Credential c = CredentialBuilder::make(CredentialKind::V2ApiKey, k, k, std::string(e),
                                         derive_endpoints(e));
  CredentialBuilder::set_override(c, o);
  return c;
}

namespace {

// A key in any format; a v2 key takes its endpoint from `endpoint_var`. `subject` starts the
// message when that variable is unset ("the key is", "environment variable K holds").
Credential from_any_key(std::string_view k, const std::optional<EndpointOverride>& o,
                        const char* endpoint_var, const std::string& subject) {
  if (endpoint_var == nullptr) endpoint_var = kEndpointVar;
  const char* endpoint = (endpoint_var && *endpoint_var) ? std::getenv(endpoint_var) : nullptr;
  bool v2 = false;
  if (k.size() <= kMaxCredentialLength && detail::is_valid_utf8(k)) {
    detail::JwtClaims jwt;
    v2 = jwt.decode(detail::trim_ascii_whitespace(k)) && is_v2_payload(jwt.payload());
  }
  if (v2) {
    if (endpoint == nullptr) {
      throw_invalid(subject + " a v2 API key; " +
                    (endpoint_var && *endpoint_var ? endpoint_var : "the endpoint variable") +
                    " must be set to its endpoint");
    }
    return Credential::from_v2(k, endpoint, o);
  }
  return Credential::from_string(k, o);
}

// A credential from a token file's contents; errors name the file.
Credential from_token_file(const Token& t, const std::string& path,
                           const std::optional<EndpointOverride>& o) {
  Credential c = [&] {
    try {
      return Credential::from_string(t.api_key.reveal(), o);
    } catch (const Error& e) {
      throw Error(e.code(), "token file " + shown_path(path) + ": authToken: " + e.what());
    }
  }();
  CredentialBuilder::set_file_fields(c, t);
  return c;
}

}  // namespace

std::string redacted_key(std::string_view key) {
  try {
    return redact(Credential::from_string(key).raw_key());
  } catch (const Error&) {
    return redact(key);
  }
}

Credential Credential::from_key(std::string_view key, const std::optional<EndpointOverride>& o,
                                const char* endpoint_var) {
  return from_any_key(key, o, endpoint_var, "the key is");
}

Credential Credential::from_environment(const std::optional<EndpointOverride>& o,
                                        const char* key_var, const char* endpoint_var) {
  if (key_var == nullptr) key_var = kApiKeyVar;
  if (*key_var == '\0') throw_invalid("environment variable name cannot be empty");
  const char* key = std::getenv(key_var);
  if (key == nullptr) throw_invalid(std::string("environment variable ") + key_var + " must be set");
  return from_any_key(key, o, endpoint_var, std::string("environment variable ") + key_var + " holds");
}

Credential Credential::from_file(const std::string& path, const std::optional<EndpointOverride>& o) {
  return from_token_file(read_token_file(path), path, o);
}

Credential Credential::from_key_file(const std::string& path,
                                     const std::optional<EndpointOverride>& o,
                                     const char* endpoint_var) {
  const Secret content = read_key_file_text(path, "key file");
  const std::string_view text = detail::trim_ascii_whitespace(content.reveal());
  // The Download-JSON shape is an object; no key format starts with '{'.
  if (!text.empty() && text.front() == '{') {
    Token t = [&] {
      try {
        return parse_token_file_json(content.reveal());
      } catch (const Error& e) {
        throw Error(e.code(), "key file " + shown_path(path) + ": " + e.what());
      }
    }();
    return from_token_file(t, path, o);
  }
  try {
    return from_key(text, o, endpoint_var);
  } catch (const Error& e) {
    throw Error(e.code(), "key file " + shown_path(path) + ": " + e.what());
  }
}

Credential Credential::local(std::string_view host, uint16_t port) {
  if (host.empty()) throw_invalid("local endpoint host cannot be empty");
  if (port == 0) throw_invalid("local endpoint port cannot be 0");
  Endpoint e = parse_endpoint(std::string(host) + ":" + std::to_string(port), false);
  if (e.port != port) throw_invalid("local endpoint host must not contain a port");
  Credential c = CredentialBuilder::make(CredentialKind::Local, "", "", "", Endpoints{e, e, e});
  CredentialBuilder::set_overridden(c, true);  // routing is explicit, like an override
  return c;
}

std::optional<ExpiresAt> Credential::expires_at() const {
  if (expires_at_) return expires_at_;
  if (auto e = detail::jwt_exp(raw_key_.reveal())) return ExpiresAt::from_epoch(*e);
  if (never_without_exp_) return ExpiresAt::never();
  return std::nullopt;
}

std::string Credential::redacted() const {
  const Endpoint& ctl = endpoints_.control;
  std::string out = credential_kind_name(kind_);
  out += " control=";
  out += ctl.host.empty() ? std::string("<none>") : ctl.address();
  out += ctl.secure ? " (tls)" : " (plaintext)";
  out += " key=";
  out += redact(raw_key_.reveal());
  return out;
}

Credential Credential::with_override(const EndpointOverride& o) const {
  Credential c = *this;
  CredentialBuilder::set_override(c, o);
  return c;
}

}  // namespace momento::auth
