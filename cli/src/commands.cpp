#include "commands.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <cstdlib>
#include <mutex>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "keep_fresh_status.hpp"
#include "parse.hpp"

namespace momento::cli {

using nlohmann::json;

namespace {

// The override that does not depend on the parsed credential (--endpoint).
std::optional<EndpointOverride> early_override(const GlobalOptions& g) {
  if (g.endpoint.empty()) return std::nullopt;
  return endpoint_override(g, "");
}

const EndpointOverride* ptr(const std::optional<EndpointOverride>& o) { return o ? &*o : nullptr; }

// --insecure without --endpoint: keep the credential's hosts, switch to plaintext.
Credential apply_late_override(const GlobalOptions& g, Credential c) {
  if (!g.endpoint.empty() || !g.insecure) return c;
  return c.with_override(*endpoint_override(g, std::string(c.base_endpoint())));
}

// Without --timeout each client keeps the library's deadlines (the data client per plane).
ClientConfig client_config(const GlobalOptions& g) {
  ClientConfig cfg;
  if (g.timeout) cfg.deadline(*g.timeout);
  if (!g.ca_file.empty()) cfg.ca_file(g.ca_file);
  return cfg;
}

json endpoint_json(const Endpoint& e) {
  return {{"host", e.host}, {"port", e.port}, {"secure", e.secure}};
}

std::string endpoint_text(const Endpoint& e) {
  return printable(e.address(), 300) + (e.secure ? " (TLS)" : " (plaintext)");
}

// epoch 0 = never.
json expiry_json(uint64_t epoch) {
  json j = {{"expires_at", epoch}, {"expires", epoch != 0}};
  if (epoch != 0) {
    j["expires_at_utc"] = format_epoch_utc(epoch);
    j["expired"] = static_cast<uint64_t>(now_epoch_seconds()) >= epoch;
  }
  return j;
}


std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::optional<EndpointOverride> endpoint_override(const GlobalOptions& g,
                                                  const std::string& base_endpoint) {
  // The library validates the address when the override is made, so a typo is reported as
  // such, not as an unreachable server.
  if (!g.endpoint.empty()) return EndpointOverride::single(g.endpoint, !g.insecure);
  if (!g.insecure) return std::nullopt;
  if (base_endpoint.empty())
    throw_invalid("--insecure needs --endpoint HOST:PORT for this key (it names no base endpoint)");
  return EndpointOverride::base(base_endpoint, std::nullopt, false);
}

void check_plaintext(const GlobalOptions& g, const Credential& c) {
  if (g.allow_insecure_remote) return;
  for (Service s : {Service::Control, Service::Cache, Service::Token}) {
    const Endpoint e = c.endpoint(s);
    if (!e.secure && !e.host.empty() && !is_loopback_host(e.host))
      throw_invalid("--insecure would send the key in plaintext to " + printable(e.host, 100) +
                    ", which is not a loopback address; add --allow-insecure-remote if that is "
                    "really meant");
  }
}

// Every key source goes through the library's own readers (format detection, a v2 key's
// endpoint from MOMENTO_ENDPOINT, the key file shapes); the CLI adds only its flags.
Credential credential_from_text(const GlobalOptions& g, std::string_view text) {
  const auto o = early_override(g);
  Credential c = apply_late_override(g, Credential::from_key(std::string(text), std::nullopt, ptr(o)));
  check_plaintext(g, c);
  return c;
}

Credential credential_from_path(const GlobalOptions& g, const std::string& path,
                                std::string_view option) {
  const auto o = early_override(g);
  Credential c = [&] {
    try {
      return Credential::from_key_file(path, std::nullopt, ptr(o));
    } catch (const Error& e) {
      throw Error(e.code(), std::string(option) + ": " + e.what(), e.grpc_status(), e.retryable());
    }
  }();
  c = apply_late_override(g, std::move(c));
  check_plaintext(g, c);
  return c;
}

bool key_in_environment() { return std::getenv(kKeyVariable) != nullptr; }

Credential global_credential(const GlobalOptions& g) {
  if (!g.key.empty()) return credential_from_text(g, g.key);
  if (!g.key_file.empty()) return credential_from_path(g, g.key_file, "--key-file");
  if (!key_in_environment())
    throw_invalid(std::string("no key given: pass --key KEY, --key-file FILE or set ") + kKeyVariable);
  const auto o = early_override(g);
  Credential c = apply_late_override(g, Credential::from_env(kKeyVariable, std::nullopt, ptr(o)));
  check_plaintext(g, c);
  return c;
}

namespace {

// --scope NAME or one or more --permit entries (not both).
Scope scope_of(const std::string& name, const std::vector<std::string>& permits, ScopeUse use) {
  if (!name.empty() && !permits.empty()) throw_invalid("give either --scope or --permit, not both");
  if (!name.empty()) return parse_scope(name);
  if (permits.empty())
    throw_invalid(use == ScopeUse::ApiKey ? "generate needs --scope NAME or at least one --permit"
                                          : "a disposable token needs at least one --permit");
  Scope scope;
  for (const auto& p : permits) add_permission(scope, p);
  scope.validate(use);
  return scope;
}

std::string scope_text(const std::string& name, const std::vector<std::string>& permits) {
  if (!name.empty()) return std::string(trim(name));
  std::string out;
  for (const auto& p : permits) out += (out.empty() ? "" : " ") + printable(p, 120);
  return out;
}

// Refuses to overwrite an existing file without --force (--out is then known to be a path).
void check_out_file(const std::string& out, bool force) {
  struct stat st {};
  if (!out.empty() && !force && ::lstat(out.c_str(), &st) == 0)
    throw_invalid("--out names a file that already exists; pass --force to replace it");
}

// Prints a token (a secret, the requested output) or writes it to --out.
void emit_token(const GlobalOptions& g, const Token& r, const std::string& out_file,
                const std::string& what, Io io) {
  if (out_file.empty()) {
    std::string text = r.to_json();
    io.out << text << "\n";
    wipe(text);
    if (io.out_is_terminal)
      io.err << "note: the output above is a secret key; `--out FILE` stores it with mode 0600\n";
    return;
  }
  r.write_file(out_file);
  if (g.json) {
    json j = {{"file", out_file}, {"scope", what}, {"endpoint", std::string(r.endpoint())},
              {"refreshable", !r.refresh_token().empty()}, {"key", redact_key(std::string(r.api_key()))}};
    j.update(expiry_json(r.valid_until()));
    io.out << dump(j) << "\n";
    return;
  }
  const std::string file = printable(out_file, 200);
  io.out << "Wrote a new " << what << " key to " << file << " (mode 0600)\n"
         << "  key:     " << redact_key(std::string(r.api_key())) << "\n"
         << "  expires: " << describe_expiry(r.valid_until()) << "\n"
         << "  refresh: "
         << (r.refresh_token().empty() ? "no refresh token (it cannot be refreshed)"
                                       : "refresh token stored; renew with `momento-auth refresh --file " +
                                             file + "`")
         << "\n";
}

}  // namespace

int cmd_generate(const GlobalOptions& g, const GenerateOptions& o, Io io) {
  const Scope scope = scope_of(o.scope, o.permits, ScopeUse::ApiKey);
  const ExpiresIn expires = parse_expires_in(o.expires_in);
  check_out_file(o.out_file, o.force);
  AuthClient client(global_credential(g), client_config(g));
  const Token r = client.generate_api_key(scope, expires);
  emit_token(g, r, o.out_file, scope_text(o.scope, o.permits), io);
  return kExitOk;
}

int cmd_generate_disposable(const GlobalOptions& g, const DisposableOptions& o, Io io) {
  const Scope scope = scope_of("", o.permits, ScopeUse::DisposableToken);
  const ExpiresIn expires = parse_expires_in(o.expires_in);
  check_out_file(o.out_file, o.force);
  AuthClient client(global_credential(g), client_config(g));
  const Token r = client.generate_disposable_token(
      scope, expires, o.token_id.empty() ? std::nullopt : std::optional<std::string>(o.token_id));
  emit_token(g, r, o.out_file, "disposable " + scope_text("", o.permits), io);
  return kExitOk;
}

int cmd_refresh(const GlobalOptions& g, const RefreshOptions& o, Io io) {
  if (o.file.empty()) throw_invalid("refresh needs --file FILE (a token file from `generate --out`)");
  // Opening the file as a store checks, before the refresh token is spent, that the file can be
  // replaced afterwards (a symbolic link that would be refused, a FIFO, a directory).
  Store target("file:" + o.file);
  const auto early = early_override(g);
  const Credential cred = apply_late_override(g, Credential::from_file(o.file, ptr(early)));
  check_plaintext(g, cred);
  if (cred.refresh_token().empty())
    throw_invalid("the token file given with --file holds no refresh token; never-expiring keys "
                  "cannot be refreshed");

  AuthClient client(cred, client_config(g));
  std::string refresh_token(cred.refresh_token());
  const Token r = [&] {
    try {
      Token t = client.refresh_api_key(refresh_token);
      wipe(refresh_token);
      return t;
    } catch (...) {
      wipe(refresh_token);
      throw;
    }
  }();
  r.write_file(o.file);

  if (g.json) {
    json j = {{"file", o.file}, {"endpoint", std::string(r.endpoint())}, {"key", redact_key(std::string(r.api_key()))}};
    j.update(expiry_json(r.valid_until()));
    io.out << dump(j) << "\n";
  } else {
    io.out << "Refreshed the key in " << printable(o.file, 200) << "\n"
           << "  key:     " << redact_key(std::string(r.api_key())) << "\n"
           << "  expires: " << describe_expiry(r.valid_until()) << "\n";
  }
  return kExitOk;
}

int cmd_inspect(const GlobalOptions& g, const InspectOptions& o, Io io) {
  // Checked before the key is read, so a typo is reported as such.
  const bool within = !o.expires_within.empty();
  const int64_t within_s =
      within ? parse_duration(o.expires_within, "--expires-within").count() / 1000 : 0;
  Credential cred = [&] {
    if (o.target.empty()) return global_credential(g);
    struct stat st {};
    if (::stat(o.target.c_str(), &st) == 0) return credential_from_path(g, o.target, "the file to inspect");
    return credential_from_text(g, o.target);
  }();

  const Expiry expiry = cred.expiry();
  const bool known = expiry.state != Expiry::State::Unknown;
  const uint64_t epoch = expiry.state == Expiry::State::At ? expiry.epoch_seconds : 0;
  const Endpoint control = cred.endpoint(Service::Control);
  const Endpoint cache = cred.endpoint(Service::Cache);
  const Endpoint token = cred.endpoint(Service::Token);
  const std::string base(cred.base_endpoint());
  const std::string refresh =
      cred.refresh_token().empty() ? std::string() : redact(std::string(cred.refresh_token()));
  // --expires-within: like `openssl x509 -checkend`, for keys nothing refreshes.
  const bool expiring = within && known && epoch != 0 &&
                        static_cast<int64_t>(epoch) <=
                            now_epoch_seconds() + within_s;
  if (within && !known)
    throw Error(MOMENTO_ERR_INVALID_ARGUMENT,
                "--expires-within: this key's expiry is unknown (its kind does not say)", -1, false);
  if (g.json) {
    json j = {{"kind", std::string(cred.kind_name())},
              {"key", std::string(cred.redacted_key())},
              {"base_endpoint", base},
              {"endpoints_overridden", cred.endpoints_overridden()},
              {"endpoints",
               {{"control", endpoint_json(control)},
                {"cache", endpoint_json(cache)},
                {"token", endpoint_json(token)}}},
              {"refresh_token", refresh.empty() ? json(nullptr) : json(refresh)}};
    if (known) j.update(expiry_json(epoch));
    else j["expires"] = nullptr;  // unknown
    if (within) j["expires_within"] = {{"seconds", within_s}, {"expiring", expiring}};
    io.out << dump(j) << "\n";
    return expiring ? kExitExpiring : kExitOk;
  }
  io.out << "kind:          " << cred.kind_name() << "\n"
         << "key:           " << cred.redacted_key() << "\n";
  if (!base.empty()) io.out << "base endpoint: " << printable(base) << "\n";
  io.out << "control:       " << endpoint_text(control) << "\n"
         << "cache:         " << endpoint_text(cache) << "\n"
         << "token:         " << endpoint_text(token) << "\n"
         << "expires:       " << (known ? describe_expiry(epoch) : std::string("unknown")) << "\n"
         << "refresh token: " << (refresh.empty() ? std::string("none") : refresh) << "\n";
  if (within)
    io.out << "expires within " << printable(trim(o.expires_within), 40) << ": "
           << (expiring ? "yes" : "no") << "\n";
  return expiring ? kExitExpiring : kExitOk;
}

int cmd_create_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), client_config(g));
  client.create_cache(o.cache);
  io.out << (g.json ? dump({{"created", o.cache}}) : "Created cache " + printable(o.cache)) << "\n";
  return kExitOk;
}

int cmd_delete_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), client_config(g));
  client.delete_cache(o.cache);
  io.out << (g.json ? dump({{"deleted", o.cache}}) : "Deleted cache " + printable(o.cache)) << "\n";
  return kExitOk;
}

int cmd_flush_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), client_config(g));
  client.flush_cache(o.cache);
  io.out << (g.json ? dump({{"flushed", o.cache}}) : "Flushed cache " + printable(o.cache)) << "\n";
  return kExitOk;
}

int cmd_list_caches(const GlobalOptions& g, const CacheOptions&, Io io) {
  DataClient client(global_credential(g), client_config(g));
  const auto names = client.list_caches();
  if (g.json) {
    io.out << dump({{"caches", names}}) << "\n";
  } else {
    for (const auto& n : names) io.out << printable(n) << "\n";
  }
  return kExitOk;
}

int cmd_set(const GlobalOptions& g, const CacheOptions& o, Io io) {
  const auto ttl = parse_duration(o.ttl);
  DataClient client(global_credential(g), client_config(g));
  client.set(o.cache, o.key, o.value, ttl);
  io.out << (g.json ? dump({{"stored", true}, {"cache", o.cache}, {"key", o.key}})
                    : "Stored '" + printable(o.key) + "' in cache " + printable(o.cache))
         << "\n";
  return kExitOk;
}

int cmd_get(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), client_config(g));
  const auto v = client.get(o.cache, o.key);
  if (g.json) {
    json j = {{"hit", v.has_value()}};
    if (v) j["value"] = *v;
    io.out << dump(j) << "\n";
  } else if (v) {
    io.out << *v << "\n";
  } else {
    io.err << "miss: '" << printable(o.key) << "' is not in cache " << printable(o.cache) << "\n";
  }
  return kExitOk;
}

int cmd_delete_key(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), client_config(g));
  client.delete_key(o.cache, o.key);
  io.out << (g.json ? dump({{"deleted", true}, {"cache", o.cache}, {"key", o.key}})
                    : "Deleted '" + printable(o.key) + "' from cache " + printable(o.cache))
         << "\n";
  return kExitOk;
}

int cmd_ping(const GlobalOptions& g, const CacheOptions&, Io io) {
  // Ping needs no key; use the given one for its endpoints, else just the --endpoint.
  const bool have_key = !g.key.empty() || !g.key_file.empty() || key_in_environment();
  Credential cred = [&] {
    if (have_key) return global_credential(g);
    if (g.endpoint.empty()) throw_invalid("ping needs --endpoint HOST:PORT or a key");
    Credential c = Credential::local().with_override(*endpoint_override(g, ""));
    check_plaintext(g, c);
    return c;
  }();
  DataClient client(cred, client_config(g));
  client.ping();
  io.out << (g.json ? dump({{"ok", true}}) : "ok") << "\n";
  return kExitOk;
}

namespace {

Store open_store(const StoreSelection& sel) {
  if (sel.spec.empty()) throw_invalid("--store is empty; use file:PATH, aws-sm:SECRET-ID, env:VAR or exec:{JSON}");
  StoreOptions so;
  if (!sel.region.empty()) so.aws_region(sel.region);
  if (!sel.aws_endpoint.empty()) so.aws_endpoint(sel.aws_endpoint);
  return Store(sel.spec, &so);
}

// Endpoint override for keys read from a store: --endpoint, or --insecure with the hosts the
// stored key names. Plaintext to a host that is not a loopback address is refused here.
std::optional<EndpointOverride> store_override(const GlobalOptions& g, Store& store) {
  if (!g.endpoint.empty() || !g.insecure) {
    auto o = early_override(g);
    if (o) check_plaintext(g, Credential::local().with_override(*o));
    return o;
  }
  const Token t = store.load();
  const Credential c = Credential::from_string(std::string(t.api_key()));
  auto o = endpoint_override(g, std::string(c.base_endpoint()));
  check_plaintext(g, c.with_override(*o));
  return o;
}

std::string now_utc() { return format_epoch_utc(static_cast<uint64_t>(now_epoch_seconds())); }

// SIGTERM and SIGINT are blocked in every thread (library threads inherit the mask of the thread
// that creates them) and taken by one thread with sigtimedwait, so shutdown is an ordinary return.
// Once a signal has arrived the command has a second to finish: whatever blocks it then (a slow
// store, a call in flight) cannot keep the process alive.
class SignalWait {
 public:
  SignalWait() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] { take_signals(); });
  }
  ~SignalWait() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    thread_.join();
    // A signal that arrived after the last wait is consumed, not delivered on unblock.
    timespec zero{0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalWait(const SignalWait&) = delete;
  SignalWait& operator=(const SignalWait&) = delete;

  // Waits until a signal arrives (returns it) or `done` holds (returns 0); checks `done` every
  // 100 ms.
  template <class Done>
  int wait(Done done) {
    std::unique_lock lock(mu_);
    while (signal_ == 0 && !done()) cv_.wait_for(lock, std::chrono::milliseconds(100));
    return signal_;
  }
  // Waits up to `d` for a signal; returns it, or 0 when the time is up.
  int wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [this] { return signal_ != 0; });
    return signal_;
  }

 private:
  void take_signals() {
    const timespec tick{0, 100 * 1000 * 1000};
    int sig = 0;
    while (sig <= 0) {
      {
        std::lock_guard lock(mu_);
        if (closing_) return;
      }
      sig = sigtimedwait(&set_, nullptr, &tick);
    }
    std::unique_lock lock(mu_);
    signal_ = sig;
    cv_.notify_all();
    if (cv_.wait_for(lock, std::chrono::milliseconds(900), [this] { return closing_; })) return;
    static const char msg[] = "momento-auth: still busy a second after the signal; exiting now\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    std::_Exit(128 + sig);
  }

  sigset_t set_{}, old_{};
  std::mutex mu_;
  std::condition_variable cv_;
  int signal_ = 0;
  bool closing_ = false;
  std::thread thread_;
};

std::string expiry_text(uint64_t valid_until) { return describe_expiry(valid_until); }

json event_json(const RefreshEvent& e, const char* name) {
  json j = {{"event", name}, {"time", now_utc()}, {"store", e.store}, {"key", e.key},
            {"fingerprint", e.key_fingerprint}};
  j.update(expiry_json(e.valid_until));
  if (e.kind != RefreshEvent::Kind::Adopted) j["replay"] = e.replay;
  if (e.kind == RefreshEvent::Kind::Failed) {
    j["error_code"] = momento_status_str(e.error_code);
    j["error_message"] = e.error_message;
    j["retryable"] = e.retryable;
    j["consecutive_failures"] = e.consecutive_failures;
    if (e.next_attempt_ms > 0)
      j["next_attempt_utc"] = format_epoch_utc(static_cast<uint64_t>(e.next_attempt_ms / 1000));
  }
  return j;
}

std::string event_line(const RefreshEvent& e, const char* name) {
  std::string line = now_utc() + " " + name + " " + printable(e.store);
  if (!e.key.empty()) line += " key " + e.key + " expires " + expiry_text(e.valid_until);
  if (e.kind == RefreshEvent::Kind::Failed) {
    line += ": " + std::string(momento_status_str(e.error_code)) + ": " + printable(e.error_message, 1000) +
            " (failure " + std::to_string(e.consecutive_failures);
    if (e.next_attempt_ms > 0)
      line += ", next attempt " + format_epoch_utc(static_cast<uint64_t>(e.next_attempt_ms / 1000));
    line += "; the current key stays in service)";
  }
  return line;
}

// The level of an event in JSON logs: failures a later attempt may fix are warnings.
const char* event_level(const RefreshEvent& e) {
  if (e.kind != RefreshEvent::Kind::Failed) return "info";
  return e.retryable ? "warning" : "error";
}

}  // namespace

int cmd_keep_fresh(const GlobalOptions& g, const KeepFreshOptions& o, Io io) {
  if (o.force && !o.once) throw_invalid("--force only applies with --once");
  if (o.once && !o.metrics_listen.empty())
    throw_invalid("--metrics-listen does not apply with --once (a single pass); use --metrics-file");
  if (o.log_format != "" && o.log_format != "text" && o.log_format != "json")
    throw_invalid("--log-format must be text or json");
  // The global --json is the switch for JSON output; keep-fresh's --log-format json is an alias of
  // it, kept for units and scripts that use it.
  if (g.json && o.log_format == "text") throw_invalid("--json and --log-format text contradict each other; give one");
  const bool json_log = g.json;
  RefresherOptions ro;
  if (o.refresh_fraction_given) {
    const double f = parse_number(o.refresh_fraction, "--refresh-fraction");
    try {
      ro.jitter_fraction(0.0).refresh_fraction(f);
      ro.validate();  // the library owns the range; the setters only record
    } catch (const Error& e) {
      throw Error(e.code(), "--refresh-fraction " + printable(trim(o.refresh_fraction), 40) + ": " + e.what(),
                  -1, false);
    }
  }

  Store store = open_store(o.store);
  if (!store.writable())
    throw_invalid("store " + printable(store.describe()) + " is read-only; keep-fresh needs file:, aws-sm: or exec: with a write command");
  const auto ov = store_override(g, store);
  const ClientConfig cfg = client_config(g);

  std::mutex out_mu;
  // Notes about the process itself go to stderr; events go to stdout.
  auto note = [&](const char* level, const std::string& msg) {
    std::lock_guard lock(out_mu);
    if (json_log) io.err << json{{"time", now_utc()}, {"level", level}, {"msg", msg}}.dump() << "\n";
    else io.err << "keep-fresh: " << msg << "\n";
    io.err.flush();
  };
  KeepFreshStatus status(printable(store.describe()));
  auto print = [&](const RefreshEvent& e, const char* name) {
    status.record(e, now_epoch_ms());
    std::lock_guard lock(out_mu);
    if (json_log) {
      json j = event_json(e, name);
      j["level"] = event_level(e);
      io.out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      io.out << event_line(e, name) << "\n";
    }
    io.out.flush();
  };
  std::mutex file_mu;
  bool file_warned = false;
  auto write_metrics = [&] {
    if (o.metrics_file.empty()) return;
    std::lock_guard lock(file_mu);
    try {
      write_textfile_atomically(o.metrics_file, status.metrics(now_epoch_ms()));
      file_warned = false;
    } catch (const Error& e) {
      if (!file_warned) note("warning", e.what());  // once per run of failures, not every 15 s
      file_warned = true;
    }
  };

  if (o.once) {
    Refresher r(store, &cfg, ptr(ov), &ro);
    const std::optional<RefreshEvent> e = r.run_once(o.force);
    if (!e) {
      // Only possible when an earlier pass of this object already read the store.
      io.out << (json_log ? json{{"event", "current"}, {"level", "info"}}.dump() : now_utc() + " current") << "\n";
      return kExitOk;
    }
    // In a single pass the first read of the store is an adoption: it means "nothing was due".
    print(*e, e->kind == RefreshEvent::Kind::Adopted ? "current" : e->kind_name());
    write_metrics();
    return e->kind == RefreshEvent::Kind::Failed ? exit_code_for(e->error_code) : kExitOk;
  }

  SignalWait signals;  // before any library thread exists
  std::unique_ptr<MetricsServer> http;
  if (!o.metrics_listen.empty()) http = std::make_unique<MetricsServer>(o.metrics_listen, status);
  Refresher r(store, &cfg, ptr(ov), &ro);
  r.subscribe([&](const RefreshEvent& e) {
    print(e, e.kind_name());
    write_metrics();
  });
  note("info", "keeping " + printable(store.describe()) + " fresh; stop with SIGTERM or SIGINT");
  if (http)
    note("info", "metrics on http://" + http->address() + "/metrics, health on http://" + http->address() +
                     "/healthz");
  r.start();
  int sig = 0;
  // The expiry countdown in the textfile moves with the clock, not only with events.
  while ((sig = signals.wait_for(std::chrono::seconds(15))) == 0) write_metrics();
  r.stop();
  http.reset();
  write_metrics();
  {
    std::lock_guard lock(out_mu);
    const std::string why = sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (json_log)
      io.out << json{{"event", "stopped"}, {"level", "info"}, {"time", now_utc()}, {"signal", why}}.dump() << "\n";
    else io.out << now_utc() << " stopped (" << why << ")\n";
    io.out.flush();
  }
  return kExitOk;
}

int cmd_watch(const GlobalOptions& g, const WatchOptions& o, Io io) {
  if (o.count < 0) throw_invalid("--count must not be negative");
  const auto period = o.interval.empty() ? Watcher::default_period() : parse_duration(o.interval, "--interval");
  Store store = open_store(o.store);
  const auto ov = early_override(g);

  std::mutex out_mu;
  std::atomic<int> changes{0};
  auto print = [&](const std::string& name, const std::string& key, const std::string& fp,
                   uint64_t valid_until) {
    std::lock_guard lock(out_mu);
    if (g.json) {
      json j = {{"event", name}, {"time", now_utc()}, {"store", std::string(store.describe())},
                {"key", key}, {"fingerprint", fp}};
      j.update(expiry_json(valid_until));
      io.out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      io.out << now_utc() << " " << name << " key " << printable(key) << " expires "
             << describe_expiry(valid_until) << "\n";
    }
    io.out.flush();
  };

  SignalWait signals;
  Watcher w(store, period, ptr(ov));
  w.subscribe([&](const KeyChange& c) {
    if (o.count > 0 && changes.load() >= o.count) return;
    print("changed", c.redacted_key, c.fingerprint, c.valid_until);
    ++changes;
  });
  {
    const WatchedKey k = w.current_key();
    print("current", std::string(k.credential().redacted_key()), std::string(k.fingerprint()),
          k.valid_until());
  }
  signals.wait([&] { return o.count > 0 && changes.load() >= o.count; });
  return kExitOk;
}

}  // namespace momento::cli
