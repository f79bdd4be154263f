#include "commands.hpp"

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "parse.hpp"

namespace momento::cli {

using nlohmann::json;

namespace {

constexpr auto kDefaultAuthDeadline = std::chrono::seconds(15);

// Overwrites a string that held a secret before its memory is released.
void wipe(std::string& s) noexcept {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
  s.clear();
}

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

ClientConfig auth_config(const GlobalOptions& g) {
  ClientConfig cfg;
  cfg.deadline(g.timeout.value_or(kDefaultAuthDeadline));
  if (!g.ca_file.empty()) cfg.ca_file(g.ca_file);
  return cfg;
}

// Without --timeout the data client keeps its own per-plane deadlines.
ClientConfig data_config(const GlobalOptions& g) {
  ClientConfig cfg;
  if (g.timeout) cfg.deadline(*g.timeout);
  if (!g.ca_file.empty()) cfg.ca_file(g.ca_file);
  return cfg;
}

json endpoint_json(const Endpoint& e) {
  return {{"host", e.host}, {"port", e.port}, {"secure", e.secure}};
}

std::string endpoint_text(const Endpoint& e) {
  return e.address() + (e.secure ? " (TLS)" : " (plaintext)");
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

// Redacted form of a minted key: the fingerprint of its raw key, as `inspect` shows it.
std::string redacted_key(std::string_view envelope) {
  const std::string text(envelope);
  try {
    return std::string(Credential::from_string(text).redacted_key());
  } catch (const Error&) {
    return redact(text);
  }
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

Credential credential_from_text(const GlobalOptions& g, std::string_view text) {
  const auto o = early_override(g);
  try {
    return apply_late_override(g, Credential::from_string(std::string(text), ptr(o)));
  } catch (const Error& e) {
    // A v2 key needs its endpoint from MOMENTO_ENDPOINT; otherwise report the first error.
    const char* v2_endpoint = std::getenv("MOMENTO_ENDPOINT");
    if (e.code() != MOMENTO_ERR_INVALID_ARGUMENT || v2_endpoint == nullptr || !*v2_endpoint) throw;
    try {
      return apply_late_override(g, Credential::from_v2(std::string(trim(text)), v2_endpoint, ptr(o)));
    } catch (const Error&) {
      throw e;
    }
  }
}

Credential credential_from_path(const GlobalOptions& g, const std::string& path) {
  std::string content = read_small_file(path);
  const std::string_view t = trim(content);
  if (!t.empty() && t.front() == '{') {
    wipe(content);
    const auto o = early_override(g);
    return apply_late_override(g, Credential::from_file(path, ptr(o)));
  }
  Credential c = credential_from_text(g, t);
  wipe(content);
  return c;
}

Credential global_credential(const GlobalOptions& g) {
  if (!g.key.empty()) return credential_from_text(g, g.key);
  if (!g.key_file.empty()) return credential_from_path(g, g.key_file);
  if (const char* env = std::getenv("MOMENTO_API_KEY"); env != nullptr)
    return credential_from_text(g, env);
  throw_invalid("no key given: pass --key KEY, --key-file FILE or set MOMENTO_API_KEY");
}

int cmd_generate(const GlobalOptions& g, const GenerateOptions& o, Io io) {
  const Scope scope = parse_scope(o.scope);
  const ExpiresIn expires = parse_expires_in(o.expires_in);
  if (!o.out_file.empty() && !o.force && std::filesystem::exists(o.out_file))
    throw_invalid("'" + o.out_file + "' already exists; pass --force to replace it");

  AuthClient client(global_credential(g), auth_config(g));
  const Token r = client.generate_api_key(scope, expires);

  if (o.out_file.empty()) {
    // The secret itself is the requested output.
    std::string text = r.to_json();
    io.out << text << "\n";
    wipe(text);
    if (io.out_is_terminal)
      io.err << "note: the output above is a secret key; `--out FILE` stores it with mode 0600\n";
    return kExitOk;
  }
  r.write_file(o.out_file);
  if (g.json) {
    json j = {{"file", o.out_file}, {"scope", std::string(trim(o.scope))},
              {"endpoint", std::string(r.endpoint())}, {"refreshable", !r.refresh_token().empty()},
              {"key", redacted_key(r.api_key())}};
    j.update(expiry_json(r.valid_until()));
    io.out << dump(j) << "\n";
  } else {
    io.out << "Wrote a new " << trim(o.scope) << " key to " << o.out_file << " (mode 0600)\n"
           << "  key:     " << redacted_key(r.api_key()) << "\n"
           << "  expires: " << describe_expiry(r.valid_until()) << "\n"
           << "  refresh: "
           << (r.refresh_token().empty() ? "no refresh token (the key never expires)"
                                         : "refresh token stored; renew with `momento-auth refresh --file " +
                                               o.out_file + "`")
           << "\n";
  }
  return kExitOk;
}

int cmd_refresh(const GlobalOptions& g, const RefreshOptions& o, Io io) {
  if (o.file.empty()) throw_invalid("refresh needs --file FILE (a token file from `generate --out`)");
  const auto early = early_override(g);
  const Credential cred = apply_late_override(g, Credential::from_file(o.file, ptr(early)));
  if (cred.refresh_token().empty())
    throw_invalid("'" + o.file + "' holds no refresh token; never-expiring keys cannot be refreshed");

  AuthClient client(cred, auth_config(g));
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
    json j = {{"file", o.file}, {"endpoint", std::string(r.endpoint())}, {"key", redacted_key(r.api_key())}};
    j.update(expiry_json(r.valid_until()));
    io.out << dump(j) << "\n";
  } else {
    io.out << "Refreshed the key in " << o.file << "\n"
           << "  key:     " << redacted_key(r.api_key()) << "\n"
           << "  expires: " << describe_expiry(r.valid_until()) << "\n";
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

  const Expiry expiry = cred.expiry();
  const bool known = expiry.state != Expiry::State::Unknown;
  const uint64_t epoch = expiry.state == Expiry::State::At ? expiry.epoch_seconds : 0;
  const Endpoint control = cred.endpoint(Service::Control);
  const Endpoint cache = cred.endpoint(Service::Cache);
  const Endpoint token = cred.endpoint(Service::Token);
  const std::string base(cred.base_endpoint());
  const std::string refresh =
      cred.refresh_token().empty() ? std::string() : redact(std::string(cred.refresh_token()));
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
    io.out << dump(j) << "\n";
    return kExitOk;
  }
  io.out << "kind:          " << cred.kind_name() << "\n"
         << "key:           " << cred.redacted_key() << "\n";
  if (!base.empty()) io.out << "base endpoint: " << base << "\n";
  io.out << "control:       " << endpoint_text(control) << "\n"
         << "cache:         " << endpoint_text(cache) << "\n"
         << "token:         " << endpoint_text(token) << "\n"
         << "expires:       " << (known ? describe_expiry(epoch) : std::string("unknown")) << "\n"
         << "refresh token: " << (refresh.empty() ? std::string("none") : refresh) << "\n";
  return kExitOk;
}

int cmd_create_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), data_config(g));
  client.create_cache(o.cache);
  io.out << (g.json ? dump({{"created", o.cache}}) : "Created cache " + o.cache) << "\n";
  return kExitOk;
}

int cmd_delete_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), data_config(g));
  client.delete_cache(o.cache);
  io.out << (g.json ? dump({{"deleted", o.cache}}) : "Deleted cache " + o.cache) << "\n";
  return kExitOk;
}

int cmd_flush_cache(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), data_config(g));
  client.flush_cache(o.cache);
  io.out << (g.json ? dump({{"flushed", o.cache}}) : "Flushed cache " + o.cache) << "\n";
  return kExitOk;
}

int cmd_list_caches(const GlobalOptions& g, const CacheOptions&, Io io) {
  DataClient client(global_credential(g), data_config(g));
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
  DataClient client(global_credential(g), data_config(g));
  client.set(o.cache, o.key, o.value, ttl);
  io.out << (g.json ? dump({{"stored", true}, {"cache", o.cache}, {"key", o.key}})
                    : "Stored '" + o.key + "' in cache " + o.cache)
         << "\n";
  return kExitOk;
}

int cmd_get(const GlobalOptions& g, const CacheOptions& o, Io io) {
  DataClient client(global_credential(g), data_config(g));
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
  DataClient client(global_credential(g), data_config(g));
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
    return Credential::local().with_override(*endpoint_override(g, ""));
  }();
  DataClient client(cred, data_config(g));
  client.ping();
  io.out << (g.json ? dump({{"ok", true}}) : "ok") << "\n";
  return kExitOk;
}

namespace {

Store open_store(const StoreSelection& sel) {
  if (sel.spec.empty()) throw_invalid("--store is empty; use file:PATH, aws-sm:SECRET-ID or env:VAR");
  StoreOptions so;
  if (!sel.region.empty()) so.aws_region(sel.region);
  if (!sel.aws_endpoint.empty()) so.aws_endpoint(sel.aws_endpoint);
  return Store(sel.spec, &so);
}

// Endpoint override for keys read from a store: --endpoint, or --insecure with the hosts the
// stored key names.
std::optional<EndpointOverride> store_override(const GlobalOptions& g, Store& store) {
  if (!g.endpoint.empty() || !g.insecure) return early_override(g);
  const Token t = store.load();
  const Credential c = Credential::from_string(std::string(t.api_key()));
  return endpoint_override(g, std::string(c.base_endpoint()));
}

std::string now_utc() { return format_epoch_utc(static_cast<uint64_t>(now_epoch_seconds())); }

// SIGTERM and SIGINT are blocked in every thread (library threads inherit the mask of the thread
// that creates them) and taken with sigtimedwait, so shutdown is an ordinary return.
class SignalWait {
 public:
  SignalWait() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalWait() {
    // A signal that arrived after the last wait is consumed, not delivered on unblock.
    timespec zero{0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  // Waits until a signal arrives (returns it) or `done` holds; checks `done` every 200 ms.
  template <class Done>
  int wait(Done done) {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done()) {
      const int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig > 0) return sig;
    }
    return 0;
  }

 private:
  sigset_t set_{}, old_{};
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
  std::string line = now_utc() + " " + name + " " + e.store;
  if (!e.key.empty()) line += " key " + e.key + " expires " + expiry_text(e.valid_until);
  if (e.kind == RefreshEvent::Kind::Failed) {
    line += ": " + std::string(momento_status_str(e.error_code)) + ": " + e.error_message +
            " (failure " + std::to_string(e.consecutive_failures);
    if (e.next_attempt_ms > 0)
      line += ", next attempt " + format_epoch_utc(static_cast<uint64_t>(e.next_attempt_ms / 1000));
    line += "; the current key stays in service)";
  }
  return line;
}

}  // namespace

int cmd_keep_fresh(const GlobalOptions& g, const KeepFreshOptions& o, Io io) {
  if (o.force && !o.once) throw_invalid("--force only applies with --once");
  Store store = open_store(o.store);
  if (!store.writable())
    throw_invalid("store " + std::string(store.describe()) + " is read-only; keep-fresh needs file: or aws-sm:");
  const auto ov = store_override(g, store);
  const ClientConfig cfg = auth_config(g);
  RefresherOptions ro;
  if (o.refresh_fraction > 0) ro.jitter_fraction(0.0).refresh_fraction(o.refresh_fraction);
  else if (o.refresh_fraction < 0) throw_invalid("--refresh-fraction must be in (0, 1)");

  std::mutex out_mu;
  auto print = [&](const RefreshEvent& e, const char* name) {
    std::lock_guard lock(out_mu);
    if (g.json) io.out << event_json(e, name).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    else io.out << event_line(e, name) << "\n";
    io.out.flush();
  };

  if (o.once) {
    Refresher r(store, &cfg, ptr(ov), &ro);
    const std::optional<RefreshEvent> e = r.run_once(o.force);
    if (!e) {
      // Only possible when an earlier pass of this object already read the store.
      io.out << (g.json ? json{{"event", "current"}}.dump() : now_utc() + " current") << "\n";
      return kExitOk;
    }
    // In a single pass the first read of the store is an adoption: it means "nothing was due".
    print(*e, e->kind == RefreshEvent::Kind::Adopted ? "current" : e->kind_name());
    return e->kind == RefreshEvent::Kind::Failed ? exit_code_for(e->error_code) : kExitOk;
  }

  SignalWait signals;  // before any library thread exists
  Refresher r(store, &cfg, ptr(ov), &ro);
  r.subscribe([&](const RefreshEvent& e) { print(e, e.kind_name()); });
  if (!g.json)
    io.err << "keep-fresh: keeping " << store.describe()
           << " fresh; stop with SIGTERM or SIGINT\n";
  r.start();
  const int sig = signals.wait([] { return false; });
  r.stop();
  {
    std::lock_guard lock(out_mu);
    const std::string why = sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (g.json) io.out << json{{"event", "stopped"}, {"time", now_utc()}, {"signal", why}}.dump() << "\n";
    else io.out << now_utc() << " stopped (" << why << ")\n";
    io.out.flush();
  }
  return kExitOk;
}

int cmd_watch(const GlobalOptions& g, const WatchOptions& o, Io io) {
  if (o.count < 0) throw_invalid("--count must not be negative");
  const auto period = parse_duration(o.interval, "--interval");
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
      io.out << now_utc() << " " << name << " key " << key << " expires "
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
