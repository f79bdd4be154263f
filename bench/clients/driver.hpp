// What every client driver of bench/run shares (C++ side): the request line on stdin, a warm-up,
// a ready line, then one batch of calls per line asked for. See bench/clients/README.md.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

using Clock = std::chrono::steady_clock;

inline nlohmann::json read_request() {
  std::string line;
  if (!std::getline(std::cin, line)) {
    std::fprintf(stderr, "no request line on stdin\n");
    std::exit(2);
  }
  return nlohmann::json::parse(line);
}

inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

inline void emit(const nlohmann::json& out) {
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
}

// One batch of n calls: one thread records each call's latency; several threads share the work
// and only the totals count.
template <class Op>
nlohmann::json batch(int n, int threads, bool parse, Op& op) {
  std::vector<double> lat;
  double c0 = cpu_seconds();
  auto t0 = Clock::now();
  if (threads <= 1) {
    if (parse) {
      for (int i = 0; i < n; ++i) op();
    } else {
      lat.reserve(n);
      for (int i = 0; i < n; ++i) {
        auto a = Clock::now();
        op();
        lat.push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count());
      }
    }
  } else {
    std::atomic<int> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        while (next.fetch_add(1, std::memory_order_relaxed) < n) op();
      });
    }
    for (auto& t : ts) t.join();
  }
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = cpu_seconds() - c0;
  nlohmann::json out{{"n", n}, {"threads", threads}, {"wall_s", wall}, {"cpu_s", cpu},
                     {"rss_kib", rss_kib()}};
  if (!lat.empty()) out["lat_ns"] = lat;
  return out;
}

// Warms up, says it is ready, then answers each line of stdin (a count) with one batch; returns
// at the end of stdin.
template <class Op>
void serve(const nlohmann::json& req, const std::string& version, Op&& op) {
  const int threads = req.value("threads", 1);
  const bool parse = req.at("call").get<std::string>().rfind("parse", 0) == 0;
  for (int i = 0; i < req.value("warmup", 0); ++i) op();
  emit({{"ready", true}, {"version", version}});
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty()) emit(batch(std::stoi(line), threads, parse, op));
  }
}

}  // namespace bench
