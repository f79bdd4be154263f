// Test driver for the Python suites of tests/refresh: runs stores, watchers and refreshers as
// real processes. Prints JSON lines; never prints a key or refresh token (fingerprints only).
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "auth.grpc.pb.h"
#include "momento/auth/aws.hpp"
#include "momento/auth/data_client.hpp"
#include "momento/auth/refresher.hpp"
#include "momento/auth/watcher.hpp"

using namespace momento::auth;
using nlohmann::json;

namespace {

std::mutex out_m;
void emit(const json& j) {
  std::lock_guard<std::mutex> g(out_m);
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

json describe_token(const StoredToken& s) {
  return {{"fingerprint", token_fingerprint(s.token.auth_token.reveal())},
          {"refreshFingerprint", token_fingerprint(s.token.refresh_token.reveal())},
          {"validUntil", s.token.valid_until.epoch()},
          {"version", s.version}};
}

json describe_event(const RefreshEvent& e) {
  json j{{"pid", ::getpid()},
         {"kind", refresh_event_kind_name(e.kind)},
         {"fingerprint", e.key_fingerprint},
         {"validUntil", e.valid_until.epoch()},
         {"replay", e.replay}};
  if (e.kind == RefreshEventKind::Failed) {
    j["code"] = error_code_name(e.error_code);
    j["message"] = e.error_message;
    j["failures"] = e.consecutive_failures;
  }
  return j;
}

// RefreshApiToken with fault-injection metadata on the first `calls` requests; the rest go
// through the library's own refresh function.
RefreshFunction faulty_refresh(const std::string& address, std::vector<std::pair<std::string, std::string>> md,
                               int calls, RefreshFunction real) {
  auto remaining = std::make_shared<std::atomic<int>>(calls);
  return [=](const TokenFile& cur) -> TokenFile {
    if (remaining->fetch_sub(1) <= 0) return real(cur);
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = ::auth::Auth::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    for (auto& [k, v] : md) ctx.AddMetadata(k, v);
    auto cred = Credential::from_string(cur.auth_token.reveal());
    ::auth::_RefreshApiTokenRequest req;
    req.set_api_key(cred.raw_key());
    req.set_refresh_token(cur.refresh_token.reveal());
    ::auth::_RefreshApiTokenResponse resp;
    grpc::Status st = stub->RefreshApiToken(&ctx, req, &resp);
    if (!st.ok())
      throw Error(error_code_from_grpc(st.error_code()), "RefreshApiToken: " + st.error_message(), st.error_code());
    return TokenFile{Secret(encode_envelope(resp.endpoint(), resp.api_key())), Secret(resp.refresh_token()),
                     resp.valid_until() ? ExpiresAt::from_epoch(resp.valid_until()) : ExpiresAt::never()};
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"refresh test driver"};
  app.require_subcommand(1);
  std::string store_spec, server, key, refresh, endpoint = "localhost";
  uint64_t valid_until = 0;
  int count = 1, threads = 1, refreshers = 1, loop = 0, fault_calls = 1;
  int64_t period_ms = 50, timeout_ms = 30000, duration_ms = 5000;
  double fraction = 0.75, jitter = 0.05;
  std::vector<std::string> faults;
  bool once = false;

  std::string action, body, profile;
  auto* call = app.add_subcommand("call", "send one signed Secrets Manager request; print the answer");
  call->add_option("--store", store_spec)->required();
  call->add_option("--action", action)->required();
  call->add_option("--body", body)->required();
  auto* creds = app.add_subcommand("credentials", "resolve AWS credentials through the chain");
  creds->add_option("--profile", profile);
  int creds_times = 1;
  creds->add_option("--times", creds_times, "get() this many times, printing each access key id");
  std::string container_base;
  creds->add_option("--container-base", container_base,
                    "where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points (instead of 169.254.170.2)");
  auto* put = app.add_subcommand("put", "store a token");
  put->add_option("--store", store_spec)->required();
  put->add_option("--key", key)->required();
  put->add_option("--refresh", refresh);
  put->add_option("--valid-until", valid_until);
  put->add_option("--endpoint", endpoint);
  auto* get = app.add_subcommand("get", "describe the stored token");
  get->add_option("--store", store_spec)->required();
  auto* versions = app.add_subcommand("versions", "DescribeSecret version stages");
  versions->add_option("--store", store_spec)->required();
  auto* watch = app.add_subcommand("watch", "print each key a Watcher publishes");
  watch->add_option("--store", store_spec)->required();
  watch->add_option("--period-ms", period_ms);
  watch->add_option("--count", count);
  watch->add_option("--timeout-ms", timeout_ms);
  auto* run = app.add_subcommand("refresher", "run refreshers against a server");
  run->add_option("--store", store_spec)->required();
  run->add_option("--server", server)->required();
  run->add_option("--threads", threads);
  run->add_option("--refreshers", refreshers);
  run->add_option("--duration-ms", duration_ms);
  run->add_option("--fraction", fraction);
  run->add_option("--jitter", jitter);
  run->add_option("--loop", loop, "refresh_now() this many times instead of ticking");
  run->add_option("--fault", faults, "metadata key=value sent on the first --fault-calls refreshes");
  run->add_option("--fault-calls", fault_calls);
  run->add_flag("--once", once, "one tick");
  int until_refreshed = 0;
  run->add_option("--until-refreshed", until_refreshed, "stop after this many refreshes by this process");
  std::string bootstrap;
  int64_t expires_in = 0;
  auto* mint = app.add_subcommand("mint", "mint an AllDataReadWrite key with the bootstrap key into a store");
  mint->add_option("--store", store_spec)->required();
  mint->add_option("--server", server)->required();
  mint->add_option("--bootstrap", bootstrap)->required();
  mint->add_option("--expires-in", expires_in)->required();
  auto* check = app.add_subcommand("check", "use the stored key for a ListCaches call");
  check->add_option("--store", store_spec)->required();
  check->add_option("--server", server)->required();
  CLI11_PARSE(app, argc, argv);

  try {
    if (creds->parsed()) {
      // Prints only what is safe to print: the key id, whether a session token came, the expiry.
      aws::CredentialChainOptions co;
      if (!container_base.empty()) co.container_base = container_base;
      aws::CredentialProvider p(profile, co);
      for (int i = 0; i < creds_times; ++i) {
        auto c = p.get();
        emit({{"accessKeyId", c.access_key_id}, {"sessionToken", !c.session_token.empty()},
              {"expiresAt", c.expires_at ? json(*c.expires_at) : json(nullptr)}, {"source", p.source()}});
      }
      return 0;
    }
    auto store = std::shared_ptr<TokenStore>(open_store(store_spec));
    if (put->parsed()) {
      store->store(TokenFile{Secret(encode_envelope(endpoint, key)), Secret(refresh),
                             valid_until ? ExpiresAt::from_epoch(valid_until) : ExpiresAt::never()});
      emit(describe_token(*store->load()));
      return 0;
    }
    if (get->parsed()) {
      auto s = store->load();
      emit(s ? describe_token(*s) : json{{"empty", true}});
      return 0;
    }
    if (call->parsed()) {
      auto* sm = dynamic_cast<aws::SecretsManagerStore*>(store.get());
      if (!sm) throw_invalid("call: not an aws-sm store");
      emit(json::parse(sm->call(action, body)));
      return 0;
    }
    if (versions->parsed()) {
      auto* sm = dynamic_cast<aws::SecretsManagerStore*>(store.get());
      if (!sm) throw_invalid("versions: not an aws-sm store");
      emit(sm->describe_versions());
      return 0;
    }
    if (watch->parsed()) {
      WatcherOptions o;
      o.period = std::chrono::milliseconds(period_ms);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      Watcher w(store, o);
      std::atomic<int> seen{1};
      auto print = [](const WatchedKey& k) {
        emit({{"fingerprint", k.fingerprint}, {"validUntil", k.valid_until.epoch()}, {"version", k.version}});
      };
      print(*w.current());
      w.subscribe([&](const std::shared_ptr<const WatchedKey>& k) {
        print(*k);
        ++seen;
      });
      w.start();
      while (seen.load() < count && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      w.stop();
      return seen.load() >= count ? 0 : 3;
    }
    if (mint->parsed()) {
      auto boot = read_token_file(bootstrap);
      AuthClient client(Credential::from_string(boot.auth_token.reveal(), SingleEndpointOverride{server, false}));
      auto r = client.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::seconds(expires_in));
      store->store(r.to_token_file());
      emit(describe_token(*store->load()));
      return 0;
    }
    if (check->parsed()) {
      auto s = store->load();
      if (!s) throw Error(ErrorCode::NotFound, "store is empty");
      DataClient dc(Credential::from_string(s->token.auth_token.reveal(), SingleEndpointOverride{server, false}));
      dc.list_caches();
      emit({{"ok", true}, {"fingerprint", token_fingerprint(s->token.auth_token.reveal())}});
      return 0;
    }
    if (run->parsed()) {
      RefreshPolicy policy;
      policy.refresh_fraction = fraction;
      policy.jitter_fraction = jitter;
      policy.recheck_interval = std::chrono::milliseconds(200);
      ClientConfig cc;
      RefreshFunction fn = auth_client_refresh_function(cc, SingleEndpointOverride{server, false});
      if (!faults.empty()) {
        std::vector<std::pair<std::string, std::string>> md;
        for (auto& f : faults) {
          auto eq = f.find('=');
          if (eq == std::string::npos) throw_invalid("--fault wants key=value");
          md.emplace_back(f.substr(0, eq), f.substr(eq + 1));
        }
        fn = faulty_refresh(server, md, fault_calls, fn);
      }
      // Each refresher has its own store object: the OFD lock must hold between them too.
      std::vector<std::unique_ptr<Refresher>> rs;
      for (int i = 0; i < refreshers; ++i) {
        std::shared_ptr<TokenStore> own = i == 0 ? store : std::shared_ptr<TokenStore>(open_store(store_spec));
        rs.push_back(std::make_unique<Refresher>(own, fn, policy));
        rs.back()->subscribe([](const RefreshEvent& e) { emit(describe_event(e)); });
      }
      if (once) {
        rs[0]->tick();
        return rs[0]->consecutive_failures() == 0 ? 0 : 4;
      }
      if (loop > 0) {
        // `loop` successful rotations; a failed attempt is followed at once by the next, which
        // replays the journaled refresh if the answer was lost.
        int failures = 0;
        for (int done = 0; done < loop;) {
          auto ev = rs[0]->refresh_now();
          if (ev.kind == RefreshEventKind::Refreshed) ++done;
          else if (ev.kind == RefreshEventKind::Failed && ++failures > 50) return 4;
        }
        return 0;
      }
      std::atomic<int> refreshed{0};
      for (auto& r : rs)
        r->subscribe([&](const RefreshEvent& e) { refreshed += e.kind == RefreshEventKind::Refreshed; });
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
      std::vector<std::thread> ts;
      for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
          Refresher& r = *rs[t % rs.size()];
          while (std::chrono::steady_clock::now() < deadline &&
                 (until_refreshed == 0 || refreshed.load() < until_refreshed)) {
            TimePoint wake = r.tick().next;
            auto d = std::min<std::chrono::system_clock::duration>(wake - std::chrono::system_clock::now(),
                                                                   std::chrono::milliseconds(20));
            if (d > std::chrono::system_clock::duration::zero()) std::this_thread::sleep_for(d);
          }
        });
      for (auto& t : ts) t.join();
      return 0;
    }
  } catch (const Error& e) {
    emit({{"error", error_code_name(e.code())}, {"message", e.what()}});
    return 2;
  }
  return 1;
}
