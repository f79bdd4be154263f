#include "app.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "completion.hpp"
#include "momento/auth.hpp"
#include "parse.hpp"
#include "util/tracing.hpp"

namespace momento::cli {

namespace {

const char* kDescription =
    "momento-auth: generate, refresh and inspect Momento API keys, and keep a stored key fresh.\n"
    "The caller's key comes from --key, --key-file or MOMENTO_API_KEY. For a local\n"
    "momento-auth-server add --endpoint 127.0.0.1:PORT --insecure.\n"
    "Durations: 15 (seconds), 500ms, 90s, 2m, 1h30m, 2d12h.\n"
    "Exit codes: 0 ok, 1 other error, 2 usage, 3 invalid input, 4 authentication or\n"
    "permission error, 5 server unreachable or timed out, 6 (inspect --expires-within) the key\n"
    "expires within that time.";

const char* kPermitHelp =
    "a permission (repeatable): cache:ROLE[:CACHE] (read-write, read-only, write-only), "
    "topic:ROLE[:CACHE[:TOPIC]] (publish-subscribe, subscribe-only, publish-only), "
    "function:invoke[:CACHE[:FUNCTION]]; CACHE/TOPIC/FUNCTION omitted or * mean all, NAME* a "
    "prefix";

// "(default 0.75 minus up to 0.05)": the library's refresh policy defaults, read from it.
std::string fraction_default() {
  const RefresherOptions defaults;
  std::ostringstream text;
  text << "(default " << defaults.refresh_fraction() << " minus up to " << defaults.jitter_fraction()
       << ")";
  return text.str();
}

// gRPC's own tracing prints request metadata, which carries keys and refresh tokens. When it is
// on is decided in one place (util/tracing.hpp), shared with the server.
void warn_if_grpc_tracing(std::ostream& err, bool json) {
  auto warning = momento::auth::detail::grpc_tracing_warning();
  if (!warning) return;
  constexpr std::string_view prefix = "warning: ";
  if (json) err << nlohmann::json{{"warning", warning->substr(prefix.size())}}.dump() << "\n";
  else err << *warning << "\n";
}

// --debug: the library's own log (the one MOMENTO_AUTH_DEBUG_LOG turns on, never a secret) at
// DEBUG on stderr, for the duration of the command. Messages may come from library threads.
class DebugLog {
 public:
  DebugLog(std::ostream& err, bool json) {
    set_log_callback(LogLevel::Debug, [this, &err, json](LogLevel level, std::string_view message) {
      const char* name = log_level_name(level);
      std::lock_guard lock(mu_);
      if (json)
        err << nlohmann::json{{"log", {{"level", name}, {"message", message}}}}.dump(
                   -1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
      else
        err << "log " << name << ": " << message << "\n";
      err.flush();
    });
  }
  ~DebugLog() {
    try {
      set_log_callback(LogLevel::Debug, {});  // returns once no message is being written
    } catch (...) {
    }
  }
  DebugLog(const DebugLog&) = delete;
  DebugLog& operator=(const DebugLog&) = delete;

 private:
  std::mutex mu_;
};

void print_error(std::ostream& err, bool json, const std::string& code, const std::string& message,
                 const std::string& hint, int exit_code) {
  if (json) {
    nlohmann::json j = {{"code", code}, {"message", message}, {"exit_code", exit_code}};
    if (!hint.empty()) j["hint"] = hint;
    err << nlohmann::json{{"error", j}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    return;
  }
  err << "error: " << (code.empty() ? "" : code + ": ") << message << "\n";
  if (!hint.empty()) err << "hint: " << hint << "\n";
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        bool out_is_terminal) {
  CLI::App app(kDescription, "momento-auth");
  app.set_version_flag("--version", std::string(version_string()));
  app.require_subcommand(1);
  // Global options may also follow the subcommand.
  app.fallthrough();

  GlobalOptions g;
  std::string timeout;
  auto* key_opt = app.add_option("--key", g.key, "caller's key (prefer --key-file: arguments are visible to other users)");
  auto* key_file_opt = app.add_option("--key-file", g.key_file, "file holding the caller's key (token file JSON or the bare key)");
  key_opt->excludes(key_file_opt);
  auto* endpoint_opt = app.add_option("--endpoint", g.endpoint, "HOST:PORT used for control, cache and token calls");
  app.add_flag("--insecure", g.insecure, "plaintext HTTP/2 instead of TLS (local servers: loopback addresses only)");
  app.add_flag("--allow-insecure-remote", g.allow_insecure_remote,
               "with --insecure: also allow a host that is not a loopback address (the key travels in plaintext)");
  app.add_option("--ca-file", g.ca_file, "PEM file with the roots to trust for TLS (default: system roots)");
  const std::string default_deadline =
      format_duration(std::chrono::milliseconds(momento_client_config_deadline_ms(nullptr)));
  app.add_option("--timeout", timeout,
                 "per-call deadline, e.g. 15s, 500ms (default " + default_deadline + " for key calls)");
  app.add_flag("--json", g.json, "machine-readable output, and errors as JSON on stderr");
  bool debug = false;
  app.add_flag("--debug", debug,
               "print the library's debug log on stderr (calls, endpoints, retries; never a key)");

  std::function<int()> action;
  Io io{out, err, out_is_terminal};

  GenerateOptions gen;
  auto* generate = app.add_subcommand("generate", "mint a new API key with the caller's (super-user) key");
  auto* scope_opt = generate->add_option("--scope", gen.scope, predefined_scope_names(" | ", " | "));
  auto* permit_opt = generate->add_option("--permit", gen.permits, kPermitHelp);
  scope_opt->excludes(permit_opt);
  generate->add_option("--expires-in", gen.expires_in, "a duration (30d, 1h30m), never, or a date 2027-01-31")->required();
  generate->add_option("--out", gen.out_file, "write the token file (JSON, mode 0600) here instead of printing it");
  generate->add_flag("--force", gen.force, "replace an existing --out file");
  generate->callback([&, scope_opt, permit_opt] {
    if (scope_opt->count() == 0 && permit_opt->count() == 0)
      throw CLI::RequiredError("generate needs --scope NAME or at least one --permit SPEC");
    action = [&] { return cmd_generate(g, gen, io); };
  });

  DisposableOptions dis;
  auto* disposable = app.add_subcommand(
      "generate-disposable-token", "mint a short-lived disposable token with the caller's key");
  disposable->add_option("--permit", dis.permits,
                         std::string(kPermitHelp) +
                             "; also item:ROLE:CACHE:key=KEY or item:ROLE:CACHE:key-prefix=PREFIX")
      ->required();
  disposable->add_option("--expires-in", dis.expires_in, "a duration, e.g. 15m")->required();
  disposable->add_option("--token-id", dis.token_id, "an id recorded with the token (shown by the server)");
  disposable->add_option("--out", dis.out_file, "write the token file (JSON, mode 0600) here instead of printing it");
  disposable->add_flag("--force", dis.force, "replace an existing --out file");
  disposable->callback([&] { action = [&] { return cmd_generate_disposable(g, dis, io); }; });

  RefreshOptions ref;
  auto* refresh = app.add_subcommand("refresh", "refresh the key in a token file and rewrite the file");
  refresh->add_option("--file", ref.file, "token file written by `generate --out`")->required();
  refresh->callback([&] { action = [&] { return cmd_refresh(g, ref, io); }; });

  InspectOptions ins;
  auto* inspect = app.add_subcommand("inspect", "show a key's kind, endpoints and expiry (secrets redacted)");
  inspect->add_option("target", ins.target, "KEY or FILE (default: the caller's key)");
  inspect->add_option("--expires-within", ins.expires_within,
                      "exit 6 when the key expires within this duration (e.g. 14d), for cron and monitoring");
  inspect->callback([&] { action = [&] { return cmd_inspect(g, ins, io); }; });

  CacheOptions co;
  auto* cache = app.add_subcommand("cache", "control and data calls made with the caller's key");
  cache->require_subcommand(1);
  using Cmd = int (*)(const GlobalOptions&, const CacheOptions&, Io);
  auto bind = [&](CLI::App* sub, Cmd fn) {
    sub->callback([&, fn] { action = [&, fn] { return fn(g, co, io); }; });
  };
  auto* create = cache->add_subcommand("create-cache", "create a cache");
  create->add_option("name", co.cache, "cache name")->required();
  bind(create, cmd_create_cache);
  auto* del_cache = cache->add_subcommand("delete-cache", "delete a cache");
  del_cache->add_option("name", co.cache, "cache name")->required();
  bind(del_cache, cmd_delete_cache);
  auto* flush = cache->add_subcommand("flush-cache", "remove every item of a cache");
  flush->add_option("name", co.cache, "cache name")->required();
  bind(flush, cmd_flush_cache);
  bind(cache->add_subcommand("list-caches", "list cache names"), cmd_list_caches);
  auto* set = cache->add_subcommand("set", "store VALUE under KEY");
  set->add_option("--cache", co.cache, "cache name")->required();
  set->add_option("key", co.key, "item key")->required();
  set->add_option("value", co.value, "item value")->required();
  set->add_option("--ttl", co.ttl, "time to live, e.g. 60s, 5m (default 60s)");
  bind(set, cmd_set);
  auto* get = cache->add_subcommand("get", "print the value under KEY (nothing on a miss)");
  get->add_option("--cache", co.cache, "cache name")->required();
  get->add_option("key", co.key, "item key")->required();
  bind(get, cmd_get);
  auto* del = cache->add_subcommand("delete", "delete KEY");
  del->add_option("--cache", co.cache, "cache name")->required();
  del->add_option("key", co.key, "item key")->required();
  bind(del, cmd_delete_key);
  bind(cache->add_subcommand("ping", "check that the cache endpoint answers (no key needed)"), cmd_ping);

  KeepFreshOptions kf;
  auto* keep = app.add_subcommand("keep-fresh",
      "keep the key in a store fresh: refresh before it expires and write it back (a daemon; "
      "--once for cron)");
  keep->add_option("--store", kf.store.spec, "file:PATH | aws-sm:SECRET-ID | exec:{JSON}")->required();
  keep->add_option("--region", kf.store.region, "AWS region for aws-sm: (default: AWS_REGION, ~/.aws/config)");
  keep->add_option("--aws-endpoint", kf.store.aws_endpoint,
                   "Secrets Manager endpoint URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, "
                   "AWS_ENDPOINT_URL, else AWS's)");
  keep->add_flag("--once", kf.once, "one pass: refresh if due, then exit (0 fresh, 4 auth, 5 unreachable, 1 other)");
  keep->add_flag("--force", kf.force, "with --once: refresh even when not due");
  auto* fraction_opt = keep->add_option("--refresh-fraction", kf.refresh_fraction,
                   "refresh after this fraction of the key's lifetime, in (0, 1), without jitter " +
                       fraction_default());
  keep->add_option("--metrics-listen", kf.metrics_listen,
                   "serve Prometheus metrics on /metrics and health on /healthz at this loopback "
                   "HOST:PORT (port 0 picks one; the address is logged)");
  keep->add_option("--metrics-file", kf.metrics_file,
                   "write the metrics to this file for node_exporter's textfile collector "
                   "(replaced atomically after every event and every 15 s)");
  keep->add_option("--log-format", kf.log_format,
                   "text (default) or json: an alias of the global --json, kept for existing units and scripts")
      ->check(CLI::IsMember({"text", "json"}));
  keep->callback([&, fraction_opt] {
    kf.refresh_fraction_given = fraction_opt->count() > 0;
    if (kf.log_format == "json") g.json = true;  // the alias, errors included
    action = [&] { return cmd_keep_fresh(g, kf, io); };
  });

  WatchOptions wo;
  auto* watch = app.add_subcommand("watch", "print the store's key (redacted) and expiry, and each new key as it changes");
  watch->add_option("--store", wo.store.spec, "file:PATH | aws-sm:SECRET-ID | env:VAR | exec:{JSON}")->required();
  watch->add_option("--region", wo.store.region, "AWS region for aws-sm:");
  watch->add_option("--aws-endpoint", wo.store.aws_endpoint,
                    "Secrets Manager endpoint URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, "
                    "AWS_ENDPOINT_URL, else AWS's)");
  watch->add_option("--interval", wo.interval,
                    "how often to re-read the store (default " + format_duration(Watcher::default_period()) + ")");
  watch->add_option("--count", wo.count, "exit after this many changes (default: run until SIGTERM/SIGINT)");
  watch->callback([&] { action = [&] { return cmd_watch(g, wo, io); }; });

  std::string shell;
  auto* completion = app.add_subcommand(
      "completion", "print a shell completion script (bash, zsh or fish) for momento-auth");
  completion->add_option("shell", shell, "bash | zsh | fish")->required();
  completion->callback([&] {
    action = [&] {
      out << completion_script(app, shell);
      return kExitOk;
    };
  });

  // --json may be all that was parsed when parsing fails: look for it in the arguments too.
  bool json_requested = false;
  for (int i = 1; i < argc; ++i) json_requested = json_requested || std::string_view(argv[i]) == "--json";

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app.exit(e, out, err);  // --help, --version
      return kExitOk;
    }
    print_error(err, json_requested, "USAGE", printable(e.what(), 1000),
                "run `momento-auth --help` (or `momento-auth SUBCOMMAND --help`) for usage", kExitUsage);
    return kExitUsage;
  }

  warn_if_grpc_tracing(err, g.json);
  std::optional<DebugLog> debug_log;
  try {
    if (debug) debug_log.emplace(err, g.json);
    // An empty --endpoint is a mistake, not "no endpoint" (which would send the key elsewhere).
    if (endpoint_opt->count() > 0 && trim(g.endpoint).empty()) {
      print_error(err, g.json, "USAGE", "--endpoint is empty; give HOST:PORT or leave the option out",
                  "", kExitUsage);
      return kExitUsage;
    }
    if (g.allow_insecure_remote && !g.insecure) throw_invalid("--allow-insecure-remote only applies with --insecure");
    if (!timeout.empty()) g.timeout = parse_duration(timeout);
    if (!action) {
      print_error(err, g.json, "USAGE", "no command given; run `momento-auth --help`", "", kExitUsage);
      return kExitUsage;
    }
    return action();
  } catch (const Error& e) {
    const int rc = exit_code_for(e.code());
    print_error(err, g.json, e.code_name(), printable(e.what(), 2000), hint_for(e.code()), rc);
    return rc;
  } catch (const std::exception& e) {
    print_error(err, g.json, "", printable(e.what(), 2000), "", kExitOther);
    return kExitOther;
  }
}

}  // namespace momento::cli
