#include "commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "momento/auth/client.hpp"
#include "momento/auth/data_client.hpp"
#include "momento/auth/error.hpp"
#include "parse.hpp"

namespace momento::cli {

using auth::Credential;
using auth::Error;
using auth::ErrorCode;
using auth::throw_invalid;
using nlohmann::json;

namespace {

constexpr auto kDefaultAuthDeadline = std::chrono::seconds(15);

std::string read_small_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw_invalid("cannot read key file '" + path + "': " + ec.message());
  // A key file is a few kilobytes at most; refuse to slurp anything large.
  if (size > 1024 * 1024) throw_invalid("key file '" + path + "' is too large to be a key");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_invalid("cannot read key file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The override that does not depend on the parsed credential (--endpoint).
std::optional<auth::EndpointOverride> early_override(const GlobalOptions& g) {
  if (g.endpoint.empty()) return std::nullopt;
  return endpoint_override(g, "");
}

// --insecure without --endpoint: keep the credential's hosts, switch to plaintext.
Credential apply_late_override(const GlobalOptions& g, Credential c) {
  if (!g.endpoint.empty() || !g.insecure) return c;
  return c.with_override(*endpoint_override(g, c.base_endpoint()));
}

auth::ClientConfig auth_config(const GlobalOptions& g) {
  auth::ClientConfig cfg;
  cfg.deadline = g.timeout.value_or(kDefaultAuthDeadline);
  cfg.ca_file = g.ca_file;
  return cfg;
}

auth::DataClientConfig data_config(const GlobalOptions& g) {
  auth::DataClientConfig cfg;
  cfg.ca_file = g.ca_file;
  if (g.timeout) {
    cfg.control_deadline = *g.timeout;
    cfg.data_deadline = *g.timeout;
  }
  return cfg;
}

json endpoint_json(const auth::Endpoint& e) {
  return {{"host", e.host}, {"port", e.port}, {"secure", e.secure}};
}

std::string endpoint_text(const auth::Endpoint& e) {
  return e.address() + (e.secure ? " (TLS)" : " (plaintext)");
}

json expiry_json(const auth::ExpiresAt& at) {
  json j = {{"expires_at", at.epoch()}, {"expires", at.does_expire()}};
  if (at.does_expire()) {
    j["expires_at_utc"] = format_epoch_utc(at.epoch());
    j["expired"] = at.expired();
  }
  return j;
}

// Redacted form of a minted key: the fingerprint of its raw key, as `inspect` shows it.
std::string redacted_key(const auth::Secret& envelope) {
  try {
    return auth::redact(Credential::from_string(envelope.reveal()).raw_key());
  } catch (const Error&) {
    return auth::redact(envelope.reveal());
  }
}

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::optional<auth::EndpointOverride> endpoint_override(const GlobalOptions& g,
                                                        const std::string& base_endpoint) {
  if (!g.endpoint.empty()) {
    // Validate now so a typo is reported as such, not as an unreachable server.
    (void)auth::parse_endpoint(g.endpoint, !g.insecure);
    return auth::SingleEndpointOverride{g.endpoint, !g.insecure};
  }
  if (!g.insecure) return std::nullopt;
  if (base_endpoint.empty())
    throw_invalid("--insecure needs --endpoint HOST:PORT for this key (it names no base endpoint)");
  return auth::BaseEndpointOverride{base_endpoint, "", false};
}

Credential credential_from_text(const GlobalOptions& g, std::string_view text) {
  const auto o = early_override(g);
  try {
    return apply_late_override(g, Credential::from_string(text, o));
  } catch (const Error& e) {
    // A v2 key needs its endpoint from MOMENTO_ENDPOINT; otherwise report the first error.
    const char* v2_endpoint = std::getenv("MOMENTO_ENDPOINT");
    if (e.code() != ErrorCode::InvalidArgument || v2_endpoint == nullptr || !*v2_endpoint) throw;
    try {
      return apply_late_override(g, Credential::from_v2(trim(text), v2_endpoint, o));
    } catch (const Error&) {
      throw e;
    }
  }
}

Credential credential_from_path(const GlobalOptions& g, const std::string& path) {
  const std::string content = read_small_file(path);
  const std::string_view t = trim(content);
  if (!t.empty() && t.front() == '{')
    return apply_late_override(g, Credential::from_file(path, early_override(g)));
  return credential_from_text(g, t);
}

Credential global_credential(const GlobalOptions& g) {
  if (!g.key.empty()) return credential_from_text(g, g.key);
  if (!g.key_file.empty()) return credential_from_path(g, g.key_file);
  if (const char* env = std::getenv("MOMENTO_API_KEY"); env != nullptr)
    return credential_from_text(g, env);
  throw_invalid("no key given: pass --key KEY, --key-file FILE or set MOMENTO_API_KEY");
}

int cmd_generate(const GlobalOptions& g, const GenerateOptions& o, Io io) {
  const auth::PermissionScope scope = parse_scope(o.scope);
  const auth::ExpiresIn expires = parse_expires_in(o.expires_in);
  if (!o.out_file.empty() && !o.force && std::filesystem::exists(o.out_file))
    throw_invalid("'" + o.out_file + "' already exists; pass --force to replace it");

  auth::AuthClient client(global_credential(g), auth_config(g));
  const auth::TokenResult r = client.generate_api_key(scope, expires);
  const auth::TokenFile tf = r.to_token_file();

  if (o.out_file.empty()) {
    // The secret itself is the requested output.
    std::string text = auth::token_file_json(tf);
    io.out << text << "\n";
    auth::wipe(text);
    if (io.out_is_terminal)
      io.err << "note: the output above is a secret key; `--out FILE` stores it with mode 0600\n";
    return kExitOk;
  }
  auth::write_token_file(o.out_file, tf);
  if (g.json) {
    json j = {{"file", o.out_file}, {"scope", std::string(trim(o.scope))},
              {"endpoint", r.endpoint}, {"refreshable", !r.refresh_token.empty()},
              {"key", redacted_key(r.api_key)}};
    j.update(expiry_json(r.expires_at));
    io.out << dump(j) << "\n";
  } else {
    io.out << "Wrote a new " << trim(o.scope) << " key to " << o.out_file << " (mode 0600)\n"
           << "  key:     " << redacted_key(r.api_key) << "\n"
           << "  expires: " << describe_expiry(r.expires_at) << "\n"
           << "  refresh: "
           << (r.refresh_token.empty() ? "no refresh token (the key never expires)"
                                       : "refresh token stored; renew with `momento-auth refresh --file " +
                                             o.out_file + "`")
           << "\n";
  }
  return kExitOk;
}

int cmd_refresh(const GlobalOptions& g, const RefreshOptions& o, Io io) {
  if (o.file.empty()) throw_invalid("refresh needs --file FILE (a token file from `generate --out`)");
  const auth::TokenFile current = auth::read_token_file(o.file);
  if (current.refresh_token.empty())
    throw_invalid("'" + o.file + "' holds no refresh token; never-expiring keys cannot be refreshed");
  const Credential cred = apply_late_override(g, Credential::from_file(o.file, early_override(g)));

  auth::AuthClient client(cred, auth_config(g));
  const auth::TokenResult r = client.refresh_api_key(current.refresh_token.reveal());
  auth::write_token_file(o.file, r.to_token_file());

  if (g.json) {
    json j = {{"file", o.file}, {"endpoint", r.endpoint}, {"key", redacted_key(r.api_key)}};
    j.update(expiry_json(r.expires_at));
    io.out << dump(j) << "\n";
  } else {
    io.out << "Refreshed the key in " << o.file << "\n"
           << "  key:     " << redacted_key(r.api_key) << "\n"
           << "  expires: " << describe_expiry(r.expires_at) << "\n";
  }
  return kExitOk;
}

int cmd_inspect(const GlobalOptions& g, const InspectOptions& o, Io io) {
  Credential cred = [&] {
    if (o.target.empty()) return global_credential(g);
    std::error_code ec;
    if (std::filesystem::is_regular_file(o.target, ec)) return credential_from_path(g, o.target);
    return credential_from_text(g, o.target);
  }();

  const auto expiry = cred.expires_at();
  const auth::Endpoints& eps = cred.endpoints();
  if (g.json) {
    json j = {{"kind", auth::credential_kind_name(cred.kind())},
              {"key", auth::redact(cred.raw_key())},
              {"base_endpoint", cred.base_endpoint()},
              {"endpoints_overridden", cred.endpoints_overridden()},
              {"endpoints",
               {{"control", endpoint_json(eps.control)},
                {"cache", endpoint_json(eps.cache)},
                {"token", endpoint_json(eps.token)}}},
              {"refresh_token", cred.refresh_token().empty() ? json(nullptr)
                                                             : json(auth::redact(cred.refresh_token()))}};
    if (expiry) j.update(expiry_json(*expiry));
    else j["expires"] = nullptr;  // unknown
    io.out << dump(j) << "\n";
    return kExitOk;
  }
  io.out << "kind:          " << auth::credential_kind_name(cred.kind()) << "\n"
         << "key:           " << auth::redact(cred.raw_key()) << "\n";
  if (!cred.base_endpoint().empty()) io.out << "base endpoint: " << cred.base_endpoint() << "\n";
  io.out << "control:       " << endpoint_text(eps.control) << "\n"
         << "cache:         " << endpoint_text(eps.cache) << "\n"
         << "token:         " << endpoint_text(eps.token) << "\n"
         << "expires:       " << (expiry ? describe_expiry(*expiry) : std::string("unknown")) << "\n"
         << "refresh token: "
         << (cred.refresh_token().empty() ? std::string("none") : auth::redact(cred.refresh_token()))
         << "\n";
  return kExitOk;
}

int cmd_create_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  auth::DataClient client(global_credential(g), data_config(g));
  client.create_cache(o.cache);
  io.out << (g.json ? dump({{"created", o.cache}}) : "Created cache " + o.cache) << "\n";
  return kExitOk;
}

int cmd_delete_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  auth::DataClient client(global_credential(g), data_config(g));
  client.delete_cache(o.cache);
  io.out << (g.json ? dump({{"deleted", o.cache}}) : "Deleted cache " + o.cache) << "\n";
  return kExitOk;
}

int cmd_flush_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  auth::DataClient client(global_credential(g), data_config(g));
  client.flush_cache(o.cache);
  io.out << (g.json ? dump({{"flushed", o.cache}}) : "Flushed cache " + o.cache) << "\n";
  return kExitOk;
}

int cmd_list_caches(const GlobalOptions& g, const CacheOptions&, Io io) {
  auth::DataClient client(global_credential(g), data_config(g));
  const auto names = client.list_caches();
  if (g.json) {
    io.out << dump({{"caches", names}}) << "\n";
  } else {
    for (const auto& n : names) io.out << n << "\n";
  }
  return kExitOk;
}

int cmd_set(const GlobalOptions& g, const CacheOptions& o, Io io) {
  const auto ttl = parse_duration(o.ttl);
  auth::DataClient client(global_credential(g), data_config(g));
  client.set(o.cache, o.key, o.value, ttl);
  io.out << (g.json ? dump({{"stored", true}, {"cache", o.cache}, {"key", o.key}})
                    : "Stored '" + o.key + "' in cache " + o.cache)
         << "\n";
  return kExitOk;
}

int cmd_get(const GlobalOptions& g, const CacheOptions& o, Io io) {
  auth::DataClient client(global_credential(g), data_config(g));
  const auto v = client.get(o.cache, o.key);
  if (g.json) {
    json j = {{"hit", v.has_value()}};
    if (v) j["value"] = *v;
    io.out << dump(j) << "\n";
  } else if (v) {
    io.out << *v << "\n";
  } else {
    io.err << "miss: '" << o.key << "' is not in cache " << o.cache << "\n";
  }
  return kExitOk;
}

int cmd_delete_key(const GlobalOptions& g, const CacheOptions& o, Io io) {
  auth::DataClient client(global_credential(g), data_config(g));
  client.delete_key(o.cache, o.key);
  io.out << (g.json ? dump({{"deleted", true}, {"cache", o.cache}, {"key", o.key}})
                    : "Deleted '" + o.key + "' from cache " + o.cache)
         << "\n";
  return kExitOk;
}

int cmd_ping(const GlobalOptions& g, const CacheOptions&, Io io) {
  // Ping needs no key; use the given one for its endpoints, else just the --endpoint.
  const bool have_key = !g.key.empty() || !g.key_file.empty() || std::getenv("MOMENTO_API_KEY");
  Credential cred = [&] {
    if (have_key) return global_credential(g);
    if (g.endpoint.empty()) throw_invalid("ping needs --endpoint HOST:PORT or a key");
    auto ep = auth::parse_endpoint(g.endpoint, !g.insecure);
    return Credential::local(ep.host, ep.port).with_override(*endpoint_override(g, ""));
  }();
  auth::DataClient client(std::move(cred), data_config(g));
  client.ping();
  io.out << (g.json ? dump({{"ok", true}}) : "ok") << "\n";
  return kExitOk;
}

}  // namespace momento::cli
