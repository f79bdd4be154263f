// Throughput benchmark of momento-auth-server against a bare gRPC echo service (issue 3).
//
// This program is the load generator. It starts, as separate processes on loopback:
//   - bench_echo_server (the baseline),
//   - momento-auth-server with default durability (WAL, synchronous=NORMAL),
//   - momento-auth-server with --sync-full (WAL, synchronous=FULL),
// prepares them (cache, item, keys, refresh chains) and then runs timed phases with N client
// threads spread over C channels (one TCP connection each), alternating echo and subject
// phases: E get E refresh E refresh-full E generate E ... Each subject phase is compared with
// the mean of the echo phases just before and after it, so slow drifts of the shared machine
// cancel out. Every phase is bounded by time and by a request count.
//
//   bench_throughput [--threads 16] [--channels 4] [--seconds 4] [--warmup 0.5]
//                    [--rounds 3] [--max-requests 2000000] [--server-threads 64]
//                    [--value-bytes 64]
//
// Output: one line per phase, then a summary with medians over rounds and the goals.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth.grpc.pb.h"
#include "cacheclient.grpc.pb.h"
#include "controlclient.grpc.pb.h"
#include "echo.grpc.pb.h"
#include "server_process.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using momento::test::ServerProcess;

constexpr const char* kCache = "bench";
constexpr const char* kItemKey = "bench-key";
constexpr uint32_t kKeyLifetime = 24 * 3600;  // seconds; long enough for any run

struct Config {
  int threads = 16;
  int channels = 4;
  double seconds = 4.0;
  double warmup = 0.5;        // per phase, not measured
  double first_warmup = 1.0;  // per workload, once before the first round
  int rounds = 3;
  uint64_t max_requests = 2'000'000;
  int server_threads = 64;
  int value_bytes = 64;
  std::string only;  // comma-separated subset of get,refresh,refresh-full,generate (profiling)
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "bench_throughput: %s\n", msg.c_str());
  std::exit(1);
}

void check(const grpc::Status& st, const std::string& what) {
  if (!st.ok())
    die(what + " failed: " + std::to_string(st.error_code()) + " " + st.error_message());
}

void set_deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::string status_text(const grpc::Status& st) {
  return "status " + std::to_string(st.error_code()) + ": " + st.error_message();
}

// One TCP connection per channel: a local subchannel pool keeps gRPC from sharing them.
std::vector<std::shared_ptr<grpc::Channel>> make_channels(const std::string& addr, int n) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("bench.channel_index", i);
    auto ch = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
    if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)))
      die("cannot connect to " + addr);
    out.push_back(std::move(ch));
  }
  return out;
}

// AllDataReadWrite: read/write on every cache and every topic.
permission_messages::Permissions all_data_read_write() {
  permission_messages::Permissions p;
  auto* ex = p.mutable_explicit_();
  auto* c = ex->add_permissions()->mutable_cache_permissions();
  c->set_role(permission_messages::CacheReadWrite);
  c->mutable_all_caches();
  auto* t = ex->add_permissions()->mutable_topic_permissions();
  t->set_role(permission_messages::TopicReadWrite);
  t->mutable_all_caches();
  t->mutable_all_topics();
  return p;
}

auth::_GenerateApiTokenRequest generate_request(const std::string& superuser) {
  auth::_GenerateApiTokenRequest req;
  req.set_auth_token(superuser);
  req.mutable_expires()->set_valid_for_seconds(kKeyLifetime);
  *req.mutable_permissions() = all_data_read_write();
  return req;
}

// CPU time (user + system) of a process in microseconds, from /proc/PID/stat.
double process_cpu_us(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  // Fields after the name start at 3 (state); utime is 14, stime 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_us() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// ---- a server under test, prepared for the workloads ----

struct Subject {
  std::unique_ptr<ServerProcess> proc;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::string superuser;  // raw bootstrap key
  std::string data_key;   // AllDataReadWrite key for Get
  struct Chain {
    std::string api_key, refresh_token;
    bool dead = false;
  };
  std::vector<Chain> chains;  // one per worker thread
};

std::unique_ptr<ServerProcess> start_process(const std::string& binary, std::vector<std::string> args,
                                             bool bootstrap) {
  ServerProcess::Options o;
  o.binary = binary;
  o.bootstrap = bootstrap;
  o.extra_args = std::move(args);
  return std::make_unique<ServerProcess>(o);
}

Subject start_subject(const Config& cfg, bool sync_full) {
  Subject s;
  std::vector<std::string> args = {"--log-format", "off", "--threads",
                                   std::to_string(cfg.server_threads)};
  if (sync_full) args.push_back("--sync-full");
  s.proc = start_process(MOMENTO_SERVER_BIN, args, true);
  s.channels = make_channels(s.proc->address(), cfg.channels);
  s.superuser = s.proc->bootstrap_raw_key();

  auto control = control_client::ScsControl::NewStub(s.channels[0]);
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    ctx.AddMetadata("authorization", s.superuser);
    control_client::_CreateCacheRequest req;
    req.set_cache_name(kCache);
    control_client::_CreateCacheResponse resp;
    check(control->CreateCache(&ctx, req, &resp), "CreateCache");
  }
  auto auth = auth::Auth::NewStub(s.channels[0]);
  auto mint = [&] {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    auth::_GenerateApiTokenResponse resp;
    check(auth->GenerateApiToken(&ctx, generate_request(s.superuser), &resp), "GenerateApiToken");
    if (resp.api_key().empty() || resp.refresh_token().empty()) die("GenerateApiToken: empty answer");
    return Subject::Chain{resp.api_key(), resp.refresh_token()};
  };
  s.data_key = mint().api_key;
  for (int i = 0; i < cfg.threads; ++i) s.chains.push_back(mint());

  auto scs = cache_client::Scs::NewStub(s.channels[0]);
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    ctx.AddMetadata("authorization", s.data_key);
    ctx.AddMetadata("cache", kCache);
    cache_client::_SetRequest req;
    req.set_cache_key(kItemKey);
    req.set_cache_body(std::string(static_cast<size_t>(cfg.value_bytes), 'v'));
    req.set_ttl_milliseconds(uint64_t{kKeyLifetime} * 1000);
    cache_client::_SetResponse resp;
    check(scs->Set(&ctx, req, &resp), "Set");
  }
  return s;
}

// ---- phases ----

// One call of a workload by worker `w`; false (with a reason) when it did not succeed.
using Call = std::function<bool(int w, std::string* err)>;
// Makes the per-worker call function (each worker owns its stubs and state).
using Workload = std::function<Call(int w)>;

struct PhaseStats {
  std::string name;
  uint64_t ok = 0, errors = 0;
  double seconds = 0, rps = 0, p50_us = 0, p99_us = 0;
  double server_cpu_us = 0, client_cpu_us = 0;  // per successful request
  std::string first_error;
};

double percentile(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1000.0;
}

PhaseStats run_phase(const std::string& name, const Config& cfg, pid_t server_pid,
                     const Workload& workload, double warmup, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> measure_from{0};  // steady-clock ns; 0 = still warming up
  std::atomic<uint64_t> counted{0};
  std::vector<std::vector<int64_t>> lat(static_cast<size_t>(cfg.threads));
  std::vector<uint64_t> errors(static_cast<size_t>(cfg.threads), 0);
  std::mutex err_mu;
  std::string first_error;

  std::vector<Call> calls;
  for (int w = 0; w < cfg.threads; ++w) calls.push_back(workload(w));

  std::vector<std::thread> workers;
  for (int w = 0; w < cfg.threads; ++w) {
    workers.emplace_back([&, w] {
      auto& mine = lat[static_cast<size_t>(w)];
      mine.reserve(1 << 16);
      std::string err;
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Clock::now();
        err.clear();
        const bool ok = calls[static_cast<size_t>(w)](w, &err);
        const auto t1 = Clock::now();
        const int64_t from = measure_from.load(std::memory_order_acquire);
        if (from == 0 || t0.time_since_epoch().count() < from || stop.load(std::memory_order_acquire))
          continue;
        if (ok) {
          mine.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        } else {
          ++errors[static_cast<size_t>(w)];
          std::lock_guard lock(err_mu);
          if (first_error.empty()) first_error = err;
          // A failing workload would otherwise spin; errors are reported, not hidden.
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (counted.fetch_add(1, std::memory_order_relaxed) + 1 >= cfg.max_requests)
          stop.store(true, std::memory_order_release);
      }
    });
  }

  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  const double srv0 = process_cpu_us(server_pid), cli0 = self_cpu_us();
  const auto start = Clock::now();
  measure_from.store(start.time_since_epoch().count(), std::memory_order_release);
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until && !stop.load(std::memory_order_acquire))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop.store(true, std::memory_order_release);
  const auto end = Clock::now();
  const double srv1 = process_cpu_us(server_pid), cli1 = self_cpu_us();
  for (auto& t : workers) t.join();

  PhaseStats st;
  st.name = name;
  st.seconds = std::chrono::duration<double>(end - start).count();
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  for (auto e : errors) st.errors += e;
  st.ok = all.size();
  st.rps = static_cast<double>(st.ok) / st.seconds;
  st.p50_us = percentile(all, 0.50);
  st.p99_us = percentile(all, 0.99);
  if (st.ok > 0) {
    st.server_cpu_us = (srv1 - srv0) / static_cast<double>(st.ok);
    st.client_cpu_us = (cli1 - cli0) / static_cast<double>(st.ok);
  }
  st.first_error = first_error;
  return st;
}

void print_phase(const PhaseStats& s) {
  std::printf("  %-13s %9.0f req/s  p50 %7.0f us  p99 %7.0f us  ok %8llu  err %llu  "
              "cpu/req server %6.1f us client %6.1f us\n",
              s.name.c_str(), s.rps, s.p50_us, s.p99_us, static_cast<unsigned long long>(s.ok),
              static_cast<unsigned long long>(s.errors), s.server_cpu_us, s.client_cpu_us);
  if (!s.first_error.empty()) std::printf("    first error: %s\n", s.first_error.c_str());
  std::fflush(stdout);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool parse_args(int argc, char** argv, Config& cfg) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") return false;
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    try {
      if (a == "--threads") cfg.threads = std::stoi(v);
      else if (a == "--channels") cfg.channels = std::stoi(v);
      else if (a == "--seconds") cfg.seconds = std::stod(v);
      else if (a == "--warmup") cfg.warmup = std::stod(v);
      else if (a == "--first-warmup") cfg.first_warmup = std::stod(v);
      else if (a == "--rounds") cfg.rounds = std::stoi(v);
      else if (a == "--max-requests") cfg.max_requests = std::stoull(v);
      else if (a == "--server-threads") cfg.server_threads = std::stoi(v);
      else if (a == "--value-bytes") cfg.value_bytes = std::stoi(v);
      else if (a == "--only") cfg.only = "," + v + ",";
      else return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return cfg.threads >= 1 && cfg.threads <= 256 && cfg.channels >= 1 && cfg.channels <= cfg.threads &&
         cfg.seconds > 0 && cfg.seconds <= 600 && cfg.warmup >= 0 && cfg.first_warmup >= 0 &&
         cfg.rounds >= 1 && cfg.rounds <= 50 && cfg.max_requests >= 1 &&
         cfg.server_threads >= 2 && cfg.value_bytes >= 0 && cfg.value_bytes <= (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!parse_args(argc, argv, cfg)) {
    std::fprintf(stderr,
                 "usage: bench_throughput [--threads N] [--channels N] [--seconds S] [--warmup S]\n"
                 "       [--first-warmup S] [--rounds N] [--max-requests N] [--server-threads N]\n"
                 "       [--value-bytes N] [--only get,refresh,refresh-full,generate]\n");
    return 2;
  }
  std::printf("config: %d client threads over %d channels, %.1f s per phase after %.1f s warm-up, "
              "%d rounds, at most %llu requests per phase, server --threads %d, value %d bytes, "
              "%ld CPUs online\n",
              cfg.threads, cfg.channels, cfg.seconds, cfg.warmup, cfg.rounds,
              static_cast<unsigned long long>(cfg.max_requests), cfg.server_threads,
              cfg.value_bytes, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("loadavg at start: %s\n", loadavg().c_str());
  std::fflush(stdout);

  auto echo = start_process(BENCH_ECHO_BIN, {"--threads", std::to_string(cfg.server_threads)}, false);
  auto echo_channels = make_channels(echo->address(), cfg.channels);
  Subject normal = start_subject(cfg, false);
  Subject full = start_subject(cfg, true);
  std::printf("servers: echo %s, momento-auth-server %s (synchronous=NORMAL), %s (--sync-full); "
              "data dirs under %s\n",
              echo->address().c_str(), normal.proc->address().c_str(),
              full.proc->address().c_str(), std::filesystem::temp_directory_path().c_str());

  // ---- workloads: each worker builds its own stub on channel w % C ----
  const std::string payload(static_cast<size_t>(cfg.value_bytes), 'e');
  const std::string fake_key(normal.data_key.size(), 'k');  // same header sizes as Get
  Workload echo_w = [&](int w) -> Call {
    auto stub = std::shared_ptr<bench_echo::Echo::Stub>(
        bench_echo::Echo::NewStub(echo_channels[static_cast<size_t>(w % cfg.channels)]));
    return [&, stub](int, std::string* err) {
      grpc::ClientContext ctx;
      set_deadline(ctx);
      ctx.AddMetadata("authorization", fake_key);
      ctx.AddMetadata("cache", kCache);
      bench_echo::EchoMessage req, resp;
      req.set_payload(payload);
      auto st = stub->Call(&ctx, req, &resp);
      if (!st.ok()) return *err = status_text(st), false;
      if (resp.payload().size() != payload.size()) return *err = "echo: wrong payload", false;
      return true;
    };
  };
  auto get_w = [&](Subject& s) -> Workload {
    return [&](int w) -> Call {
      auto stub = std::shared_ptr<cache_client::Scs::Stub>(
          cache_client::Scs::NewStub(s.channels[static_cast<size_t>(w % cfg.channels)]));
      return [&, stub](int, std::string* err) {
        grpc::ClientContext ctx;
        set_deadline(ctx);
        ctx.AddMetadata("authorization", s.data_key);
        ctx.AddMetadata("cache", kCache);
        cache_client::_GetRequest req;
        req.set_cache_key(kItemKey);
        cache_client::_GetResponse resp;
        auto st = stub->Get(&ctx, req, &resp);
        if (!st.ok()) return *err = status_text(st), false;
        if (resp.result() != cache_client::Hit ||
            resp.cache_body().size() != static_cast<size_t>(cfg.value_bytes))
          return *err = "get: not a hit with the stored value", false;
        return true;
      };
    };
  };
  // Each worker follows its own chain: every answer's key and refresh token are used next.
  auto refresh_w = [&](Subject& s) -> Workload {
    return [&](int w) -> Call {
      auto stub = std::shared_ptr<auth::Auth::Stub>(
          auth::Auth::NewStub(s.channels[static_cast<size_t>(w % cfg.channels)]));
      return [&, stub](int w, std::string* err) {
        auto& chain = s.chains[static_cast<size_t>(w)];
        if (chain.dead) return *err = "refresh: chain revoked earlier", false;
        grpc::ClientContext ctx;
        set_deadline(ctx);
        auth::_RefreshApiTokenRequest req;
        req.set_api_key(chain.api_key);
        req.set_refresh_token(chain.refresh_token);
        auth::_RefreshApiTokenResponse resp;
        auto st = stub->RefreshApiToken(&ctx, req, &resp);
        // A lost answer is retried with the same token (grace replay); a rejection ends the chain.
        if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED) chain.dead = true;
        if (!st.ok()) return *err = status_text(st), false;
        if (resp.api_key().empty() || resp.refresh_token().empty() ||
            resp.refresh_token() == chain.refresh_token)
          return *err = "refresh: no new key and token", false;
        chain.api_key = resp.api_key();
        chain.refresh_token = resp.refresh_token();
        return true;
      };
    };
  };
  auto generate_w = [&](Subject& s) -> Workload {
    return [&](int w) -> Call {
      auto stub = std::shared_ptr<auth::Auth::Stub>(
          auth::Auth::NewStub(s.channels[static_cast<size_t>(w % cfg.channels)]));
      auto req = std::make_shared<auth::_GenerateApiTokenRequest>(generate_request(s.superuser));
      return [stub, req](int, std::string* err) {
        grpc::ClientContext ctx;
        set_deadline(ctx);
        auth::_GenerateApiTokenResponse resp;
        auto st = stub->GenerateApiToken(&ctx, *req, &resp);
        if (!st.ok()) return *err = status_text(st), false;
        if (resp.api_key().empty() || resp.refresh_token().empty())
          return *err = "generate: empty answer", false;
        return true;
      };
    };
  };

  struct Target {
    std::string name;
    pid_t pid;
    Workload w;
  };
  const Target echo_t{"echo", echo->pid(), echo_w};
  std::vector<Target> subjects;
  for (Target t : {Target{"get", normal.proc->pid(), get_w(normal)},
                   Target{"refresh", normal.proc->pid(), refresh_w(normal)},
                   Target{"refresh-full", full.proc->pid(), refresh_w(full)},
                   Target{"generate", normal.proc->pid(), generate_w(normal)}})
    if (cfg.only.empty() || cfg.only.find("," + t.name + ",") != std::string::npos)
      subjects.push_back(std::move(t));
  if (subjects.empty()) die("--only names no workload");

  std::printf("warm-up: %.1f s per workload (not measured)\n", cfg.first_warmup);
  std::fflush(stdout);
  run_phase("echo", cfg, echo_t.pid, echo_t.w, cfg.first_warmup, 0.01);
  for (const auto& t : subjects) run_phase(t.name, cfg, t.pid, t.w, cfg.first_warmup, 0.01);

  // E S1 E S2 E ... : subject phase i is compared with the echo phases on both sides.
  std::map<std::string, std::vector<PhaseStats>> by_name;
  std::map<std::string, std::vector<double>> ratios;
  std::vector<PhaseStats> echo_runs;
  auto run_echo = [&] {
    echo_runs.push_back(run_phase("echo", cfg, echo_t.pid, echo_t.w, cfg.warmup, cfg.seconds));
    by_name["echo"].push_back(echo_runs.back());
    print_phase(echo_runs.back());
  };
  run_echo();
  for (int r = 1; r <= cfg.rounds; ++r) {
    std::printf("round %d/%d (loadavg %s)\n", r, cfg.rounds, loadavg().c_str());
    for (const auto& t : subjects) {
      PhaseStats s = run_phase(t.name, cfg, t.pid, t.w, cfg.warmup, cfg.seconds);
      print_phase(s);
      const double before = echo_runs.back().rps;
      run_echo();
      const double around = (before + echo_runs.back().rps) / 2;
      ratios[t.name].push_back(around > 0 ? s.rps / around : 0);
      by_name[t.name].push_back(s);
    }
  }

  std::printf("\nsummary (median over %d rounds; ratio = subject req/s / mean of the echo runs "
              "before and after it):\n",
              cfg.rounds);
  std::printf("  %-13s %9s %8s %8s %8s %16s %11s %11s\n", "workload", "req/s", "p50 us",
              "p99 us", "ratio", "ratio min..max", "srv cpu/req", "cli cpu/req");
  bool any_errors = false;
  for (const std::string name : {"echo", "get", "refresh", "refresh-full", "generate"}) {
    const auto& runs = by_name[name];
    std::vector<double> rps, p50, p99, scpu, ccpu;
    for (const auto& s : runs) {
      rps.push_back(s.rps);
      p50.push_back(s.p50_us);
      p99.push_back(s.p99_us);
      scpu.push_back(s.server_cpu_us);
      ccpu.push_back(s.client_cpu_us);
      any_errors = any_errors || s.errors > 0;
    }
    const auto& rv = ratios[name];
    if (runs.empty()) continue;
    if (name == std::string("echo")) {
      std::printf("  %-13s %9.0f %8.0f %8.0f %8s %16s %8.1f us %8.1f us\n", name.c_str(), median(rps),
                  median(p50), median(p99), "1", "", median(scpu), median(ccpu));
    } else {
      char range[64];
      std::snprintf(range, sizeof range, "%.3f..%.3f", *std::min_element(rv.begin(), rv.end()),
                    *std::max_element(rv.begin(), rv.end()));
      std::printf("  %-13s %9.0f %8.0f %8.0f %8.3f %16s %8.1f us %8.1f us\n", name.c_str(),
                  median(rps), median(p50), median(p99), median(rv), range, median(scpu),
                  median(ccpu));
    }
  }
  const double get_ratio = median(ratios["get"]);
  std::vector<double> refresh_rps, refresh_full_rps;
  for (const auto& s : by_name["refresh"]) refresh_rps.push_back(s.rps);
  for (const auto& s : by_name["refresh-full"]) refresh_full_rps.push_back(s.rps);
  std::printf("\ngoals:\n");
  if (!ratios["get"].empty()) {
    std::printf("  authorised Get >= 70%% of echo: %.1f%% -> %s\n", get_ratio * 100,
                get_ratio >= 0.70 ? "met" : "MISSED");
  }
  if (!refresh_rps.empty()) {
    std::printf("  refresh >= 5000/s, synchronous=NORMAL (default; survives kill -9): %.0f/s -> %s\n",
                median(refresh_rps), median(refresh_rps) >= 5000 ? "met" : "MISSED");
  }
  if (!refresh_full_rps.empty()) {
    std::printf("  refresh >= 5000/s, --sync-full (fsync per commit; survives power loss): %.0f/s -> %s\n",
                median(refresh_full_rps), median(refresh_full_rps) >= 5000 ? "met" : "MISSED");
  }
  std::printf("loadavg at end: %s\n", loadavg().c_str());
  if (any_errors) std::printf("WARNING: some calls failed (see 'err' above)\n");
  std::fflush(stdout);
  return any_errors ? 1 : 0;
}
