#include "app.hpp"

#include <CLI/CLI.hpp>
#include <functional>

#include "commands.hpp"
#include "momento/auth.hpp"
#include "parse.hpp"

namespace momento::cli {

namespace {

const char* kDescription =
    "momento-auth: generate, refresh and inspect Momento API keys, and keep a stored key fresh.\n"
    "The caller's key comes from --key, --key-file or MOMENTO_API_KEY. For a local\n"
    "momento-auth-server add --endpoint 127.0.0.1:PORT --insecure.\n"
    "Exit codes: 0 ok, 1 other error, 2 usage, 3 invalid input, 4 authentication or\n"
    "permission error, 5 server unreachable or timed out.";

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
  app.add_option("--endpoint", g.endpoint, "HOST:PORT used for control, cache and token calls");
  app.add_flag("--insecure", g.insecure, "plaintext HTTP/2 instead of TLS (local servers)");
  app.add_option("--ca-file", g.ca_file, "PEM file with the roots to trust for TLS (default: system roots)");
  app.add_option("--timeout", timeout, "per-call deadline, e.g. 15s, 500ms (default 15s for key calls)");
  app.add_flag("--json", g.json, "machine-readable output");

  std::function<int()> action;
  Io io{out, err, out_is_terminal};

  GenerateOptions gen;
  auto* generate = app.add_subcommand("generate", "mint a new API key with the caller's (super-user) key");
  generate->add_option("--scope", gen.scope, "super-user | all-data-read-write | all-data-read-only")->required();
  generate->add_option("--expires-in", gen.expires_in, "30d | 12h | 90m | 45s | never | 2027-01-31")->required();
  generate->add_option("--out", gen.out_file, "write the token file (JSON, mode 0600) here instead of printing it");
  generate->add_flag("--force", gen.force, "replace an existing --out file");
  generate->callback([&] { action = [&] { return cmd_generate(g, gen, io); }; });

  RefreshOptions ref;
  auto* refresh = app.add_subcommand("refresh", "refresh the key in a token file and rewrite the file");
  refresh->add_option("--file", ref.file, "token file written by `generate --out`")->required();
  refresh->callback([&] { action = [&] { return cmd_refresh(g, ref, io); }; });

  InspectOptions ins;
  auto* inspect = app.add_subcommand("inspect", "show a key's kind, endpoints and expiry (secrets redacted)");
  inspect->add_option("target", ins.target, "KEY or FILE (default: the caller's key)");
  inspect->callback([&] { action = [&] { return cmd_inspect(g, ins, io); }; });

  CacheOptions co;
  auto* cache = app.add_subcommand("cache", "control and data calls made with the caller's key");
  cache->require_subcommand(1);
  using Cmd = int (*)(const GlobalOptions&, const CacheOptions&, Io);
  auto bind = [&](CLI::App* sub, Cmd fn) {
    sub->callback([&, sub, fn] {
      (void)sub;
      action = [&, fn] { return fn(g, co, io); };
    });
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
  keep->add_option("--store", kf.store.spec, "file:PATH | aws-sm:SECRET-ID")->required();
  keep->add_option("--region", kf.store.region, "AWS region for aws-sm: (default: AWS_REGION, ~/.aws/config)");
  keep->add_option("--aws-endpoint", kf.store.aws_endpoint,
                   "Secrets Manager endpoint URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, "
                   "AWS_ENDPOINT_URL, else AWS's)");
  keep->add_flag("--once", kf.once, "one pass: refresh if due, then exit (0 fresh, 4 auth, 5 unreachable, 1 other)");
  keep->add_flag("--force", kf.force, "with --once: refresh even when not due");
  keep->add_option("--refresh-fraction", kf.refresh_fraction,
                   "refresh after this fraction of the key's lifetime, without jitter (default 0.75 minus up to 0.05)");
  keep->callback([&] { action = [&] { return cmd_keep_fresh(g, kf, io); }; });

  WatchOptions wo;
  auto* watch = app.add_subcommand("watch", "print the store's key (redacted) and expiry, and each new key as it changes");
  watch->add_option("--store", wo.store.spec, "file:PATH | aws-sm:SECRET-ID | env:VAR")->required();
  watch->add_option("--region", wo.store.region, "AWS region for aws-sm:");
  watch->add_option("--aws-endpoint", wo.store.aws_endpoint,
                    "Secrets Manager endpoint URL (default: AWS_ENDPOINT_URL_SECRETS_MANAGER, "
                    "AWS_ENDPOINT_URL, else AWS's)");
  watch->add_option("--interval", wo.interval, "how often to re-read the store (default 5s)");
  watch->add_option("--count", wo.count, "exit after this many changes (default: run until SIGTERM/SIGINT)");
  watch->callback([&] { action = [&] { return cmd_watch(g, wo, io); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, out, err);
    if (rc == 0) return kExitOk;  // --help, --version
    err << "Run `momento-auth --help` (or `momento-auth SUBCOMMAND --help`) for usage.\n";
    return kExitUsage;
  }

  try {
    if (!timeout.empty()) g.timeout = parse_duration(timeout);
    if (!action) {
      err << "error: no command given; run `momento-auth --help`\n";
      return kExitUsage;
    }
    return action();
  } catch (const Error& e) {
    err << "error: " << e.code_name() << ": " << e.what() << "\n";
    const std::string hint = hint_for(e.code());
    if (!hint.empty()) err << "hint: " << hint << "\n";
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return kExitOther;
  }
}

}  // namespace momento::cli
