// momento-auth-server: a local Momento-compatible auth service (see docs/server.md).
#include <CLI/CLI.hpp>

#include <csignal>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "console.hpp"
#include "crypto.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/display.hpp"
#include "momento/auth/scope.hpp"
#include "momento/auth/secret.hpp"
#include "server.hpp"
#include "util/time.hpp"
#include "util/tracing.hpp"

using namespace momento::server;

namespace {

std::string provider_endpoint(const std::string& provider, const std::string& region) {
  static const std::regex region_re("[a-z0-9][a-z0-9-]{0,62}");
  if (provider != "aws" && provider != "gcp")
    throw CLI::ValidationError("--provider", "must be aws or gcp");
  if (!std::regex_match(region, region_re))
    throw CLI::ValidationError("--region", "must look like us-west-2 (lower case, digits, '-')");
  return "cell-" + region + "-1." + provider + ".momento.localhost";
}

void print_warnings(const Registry& reg) {
  for (const auto& w : reg.startup_warnings())
    std::fprintf(stderr, "momento-auth-server: WARNING: %s\n", w.c_str());
}

namespace ma = momento::auth;
using ma::detail::format_utc;  // epoch seconds as a UTC date for people (JSON keeps the number)

std::string when(int64_t t) { return t == 0 ? "never" : format_utc(t); }

// What admin mint --class takes: "session, super-user, ... or all-data-read-only".
std::string mint_classes() {
  const size_t n = std::size(ma::kPredefinedScopes);
  std::string s = "session";
  for (size_t i = 0; i < n; ++i)
    s += std::string(i + 1 == n ? " or " : ", ") + ma::predefined_scope_name(ma::kPredefinedScopes[i]);
  return s;
}

int run_admin(CLI::App& admin, const std::string& data_dir, const std::string& cmd,
              const std::vector<std::string>& args, bool as_json, const std::string& mint_class,
              uint32_t mint_lifetime, const std::string& out_file, const std::string& endpoint,
              bool allow_readable_keys) {
  (void)admin;
  RegistryOptions ro;
  ro.endpoint = endpoint;
  ro.allow_readable_keys = allow_readable_keys;
  Registry reg(data_dir, ro);
  print_warnings(reg);
  if (cmd == "list-keys") {
    auto keys = reg.store().list_keys();
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& k : keys) {
      std::string state = key_state(k, reg.now());
      if (as_json) {
        arr.push_back({{"key_id", k.key_id()}, {"class", key_class_name(k.cls)},
                       {"created_at", k.created_at}, {"created_at_utc", format_utc(k.created_at)},
                       {"valid_until", k.valid_until},
                       {"valid_until_utc", k.valid_until == 0 ? nlohmann::json(nullptr)
                                                              : nlohmann::json(format_utc(k.valid_until))},
                       {"state", state}, {"family_id", k.family_id},
                       {"refreshable", !k.refresh_hash.empty()}, {"token_id", k.token_id},
                       {"description", k.description}, {"bootstrap", k.bootstrap}});
      } else {
        // Descriptions and ids come from whoever minted the key: escaped, so they cannot move
        // the cursor or forge rows on the operator's terminal.
        std::printf("%s  %-10s  %-7s  created=%s  valid_until=%s  family=%s%s%s%s\n",
                    k.key_id().c_str(), key_class_name(k.cls), state.c_str(),
                    format_utc(k.created_at).c_str(), when(k.valid_until).c_str(),
                    k.family_id.empty() ? "-" : momento::auth::printable(k.family_id).c_str(),
                    k.bootstrap ? "  bootstrap" : "",
                    k.token_id.empty() ? "" : ("  token_id=" + momento::auth::printable(k.token_id)).c_str(),
                    k.description.empty() ? "" : ("  \"" + momento::auth::printable(k.description) + "\"").c_str());
      }
    }
    if (as_json) std::printf("%s\n", arr.dump(1).c_str());
    return 0;
  }
  if (cmd == "revoke-key") {
    for (const auto& id : args) {
      auto k = reg.store().find_key_by_id(id);
      if (!k) {
        std::fprintf(stderr, "no single key matches id %s\n", id.c_str());
        return 2;
      }
      reg.store().revoke_key(k->key_hash);
      std::printf("revoked key %s\n", k->key_id().c_str());
    }
    return 0;
  }
  if (cmd == "revoke-family") {
    for (const auto& id : args) {
      bool ok = false;
      reg.store().transaction([&] { ok = reg.store().revoke_family(id, "revoked by admin"); });
      if (!ok) {
        std::fprintf(stderr, "unknown family %s\n", id.c_str());
        return 2;
      }
      std::printf("revoked family %s\n", id.c_str());
    }
    return 0;
  }
  if (cmd == "rotate-signing-key") {
    std::string kid = reg.ring().rotate();
    std::printf("new signing key %s (%zu keys kept for verification)\n", kid.c_str(),
                reg.ring().size());
    return 0;
  }
  if (cmd == "mint") {
    // A session key is a super-user key of its own class; the other classes are core's
    // predefined scopes by name.
    const bool session = mint_class == "session";
    const std::optional<ma::PredefinedScope> which =
        session ? ma::PredefinedScope::SuperUser : ma::predefined_scope_named(mint_class);
    if (!which) {
      std::fprintf(stderr, "--class must be %s\n", mint_classes().c_str());
      return 2;
    }
    permission_messages::Permissions perms;
    ma::scope_to_proto(ma::predefined_scope(*which), ma::ScopeUse::ApiKey, &perms);
    const KeyClass cls = session ? KeyClass::Session
                         : *which == ma::PredefinedScope::SuperUser ? KeyClass::SuperUser
                                                                    : KeyClass::Explicit;
    Minted m = reg.mint(cls, perms, mint_lifetime, "", "minted by admin");
    momento::auth::Token tf;
    tf.api_key = momento::auth::Secret(momento::auth::encode_envelope(m.endpoint, m.api_key));
    tf.refresh_token = momento::auth::Secret(m.refresh_token);
    tf.valid_until = m.valid_until ? momento::auth::ExpiresAt::from_epoch(m.valid_until)
                                   : momento::auth::ExpiresAt::never();
    momento::auth::wipe(m.api_key);
    momento::auth::wipe(m.refresh_token);
    momento::auth::write_token_file(out_file, tf);
    std::printf("minted %s key %s into %s\n", key_class_name(cls), m.key_id.c_str(),
                out_file.c_str());
    return 0;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"momento-auth-server: a local Momento-compatible auth, token, control and cache service"};
  app.set_version_flag("--version", std::string("momento-auth-server ") + MOMENTO_AUTH_VERSION_STRING);

  ServerOptions opts;
  std::string data_dir, bootstrap, endpoint, provider, region, log_format = "text", tls_cert, tls_key;
  int64_t grace = 30;
  uint32_t max_disposable = 90000;
  bool sync_full = false;
  app.add_option("--listen", opts.listen, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "directory for the signing keys and the database")
      ->required();
  app.add_option("--bootstrap", bootstrap,
                 "write a never-expiring SuperUser key to FILE (Download-JSON shape, 0600)");
  auto* ep = app.add_option("--endpoint", endpoint, "advertised base endpoint (default localhost)");
  auto* prov = app.add_option("--provider", provider, "cloud for the advertised endpoint: aws|gcp")
                   ->excludes(ep);
  auto* reg = app.add_option("--region", region, "region for the advertised endpoint, e.g. us-west-2")
                  ->excludes(ep);
  prov->needs(reg);
  reg->needs(prov);
  app.add_option("--refresh-grace-seconds", grace,
                 "window in which the previous refresh token may be replayed")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{86400}));
  app.add_option("--max-disposable-seconds", max_disposable,
                 "maximum lifetime of disposable tokens")
      ->capture_default_str()->check(CLI::Range(1u, 4294967295u));
  app.add_flag("--anonymous", opts.registry.anonymous,
               "treat an empty authorization header as a super-user caller (local SDK mode)");
  app.add_option("--tls-cert", tls_cert, "PEM certificate chain; enables TLS")->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  app.add_option("--threads", opts.threads, "maximum handler threads")
      ->capture_default_str()->check(CLI::Range(2, 256));
  app.add_option("--log-format", log_format, "text, json or off")
      ->capture_default_str()->check(CLI::IsMember({"text", "json", "off"}));
  app.add_option("--list-page-size", opts.list_page_size, "ListCaches page size (0 = no paging)")
      ->capture_default_str();
  app.add_flag("--sync-full", sync_full, "fsync every commit (power-loss safety; slower)");
  app.add_flag("--allow-readable-keys", opts.registry.allow_readable_keys,
               "use a signing-keys file or TLS private key that group or others may read (refused by default)");
  app.add_flag("--enable-faults", opts.enable_faults,
               "honour fault-injection metadata (delay-ms, return-error, ...) from authenticated "
               "callers; for testing clients, never in production");
  std::string console_listen;
  bool console_remote = false;
  app.add_option("--console", console_listen,
                 "serve the web console on HOST:PORT (loopback; port 0 picks a free port)");
  app.add_flag("--console-allow-remote", console_remote,
               "let --console use a non-loopback address (needs --tls-cert/--tls-key)");

  auto* admin = app.add_subcommand("admin", "manage the data directory (works while serving)");
  admin->fallthrough();
  admin->require_subcommand(1);
  std::string admin_cmd;
  std::vector<std::string> ids;
  bool as_json = false;
  std::string mint_class = "super-user", out_file;
  uint32_t lifetime = 0;
  auto* list = admin->add_subcommand("list-keys", "list keys (ids, classes, expiry; never secrets)");
  list->add_flag("--json", as_json, "machine-readable output");
  auto* rk = admin->add_subcommand("revoke-key", "revoke keys by id (or unique id prefix)");
  rk->add_option("KEY_ID", ids)->required();
  auto* rf = admin->add_subcommand("revoke-family", "revoke a refresh family and its keys");
  rf->add_option("FAMILY_ID", ids)->required();
  admin->add_subcommand("rotate-signing-key", "new signing key; old keys stay valid");
  auto* mint = admin->add_subcommand("mint", "mint a key into a token file");
  mint->add_option("--class", mint_class, mint_classes())
      ->capture_default_str();
  mint->add_option("--expires-in", lifetime, "lifetime in seconds (0 = never)")->capture_default_str();
  mint->add_option("--out", out_file, "token file to write (0600)")->required();
  for (auto* s : {list, rk, rf, mint}) s->fallthrough();
  admin->get_subcommand("rotate-signing-key")->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (!provider.empty()) endpoint = provider_endpoint(provider, region);
    if (endpoint.empty()) endpoint = "localhost";

    if (admin->parsed()) {
      for (auto* s : admin->get_subcommands()) admin_cmd = s->get_name();
      return run_admin(*admin, data_dir, admin_cmd, ids, as_json, mint_class, lifetime, out_file,
                       endpoint, opts.registry.allow_readable_keys);
    }

    opts.data_dir = data_dir;
    if (!bootstrap.empty()) opts.bootstrap = bootstrap;
    opts.registry.endpoint = endpoint;
    opts.registry.grace_seconds = grace;
    opts.registry.max_disposable_seconds = max_disposable;
    opts.registry.synchronous_full = sync_full;
    opts.tls_cert = tls_cert;
    opts.tls_key = tls_key;
    opts.log_format = log_format == "json" ? LogFormat::Json
                      : log_format == "off" ? LogFormat::Off
                                            : LogFormat::Text;

    // Handle termination signals on this thread only: block them before gRPC starts its threads.
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    if (auto warning = momento::auth::detail::grpc_tracing_warning())
      std::fprintf(stderr, "momento-auth-server: %s\n", warning->c_str());
    AuthServer server(opts);
    print_warnings(server.registry());
    std::unique_ptr<Console> console;
    if (!console_listen.empty()) {
      ConsoleOptions co{console_listen, console_remote, tls_cert, tls_key,
                        {{provider.empty() ? "local" : provider,
                          provider.empty() ? "local" : region, endpoint}}};
      console = std::make_unique<Console>(server.registry(), server.logger(), std::move(co));
    }
    std::string addr = server.start();
    // The start-up contract: this exact first line, flushed, once the port accepts calls.
    std::printf("listening on %s\n", addr.c_str());
    if (console) std::printf("console: %s\n", console->start().c_str());
    std::fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    server.logger().event(std::string("signal ") + std::to_string(sig) + ", shutting down");
    if (console) console->stop();
    server.shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "momento-auth-server: %s\n", e.what());
    return 1;
  }
}
