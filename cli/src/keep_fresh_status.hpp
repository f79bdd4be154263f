// keep-fresh's state for operators: Prometheus text metrics (served on a loopback port and
// written as a node_exporter textfile) and a health verdict, built from the refresher's events.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "momento/auth.hpp"

namespace momento::cli {

int64_t now_epoch_ms() noexcept;

struct Health {
  bool healthy = false;
  std::string reason;  // one line, no secrets
};

class KeepFreshStatus {
 public:
  explicit KeepFreshStatus(std::string store) : store_(std::move(store)) {}

  // Takes one refresher event; `now_ms` is the wall clock (epoch ms) when it arrived.
  void record(const RefreshEvent& e, int64_t now_ms);

  // Prometheus text exposition format (version 0.0.4).
  std::string metrics(int64_t now_ms) const;
  // Unhealthy while no key is known, once the key has expired, and while refreshes fail and the
  // key expires before the next attempt can be made.
  Health health(int64_t now_ms) const;

 private:
  mutable std::mutex m_;
  std::string store_;
  bool known_ = false;
  uint64_t valid_until_ = 0;  // epoch seconds, 0 = never expires
  int64_t last_refresh_ms_ = 0;
  int64_t last_success_ms_ = 0;
  int32_t failures_ = 0;
  int64_t next_attempt_ms_ = 0;
  std::string last_error_;  // the status name of the last failure
  std::map<std::string, uint64_t> outcomes_{{"refreshed", 0}, {"adopted", 0}, {"failed", 0}};
};

// Writes `text` to `path` as node_exporter's textfile collector wants it: a temporary file in the
// same directory, then rename, so a scrape never reads half a file. Mode 0644. Throws
// momento::Error naming the option on failure.
void write_textfile_atomically(const std::string& path, const std::string& text);

// An HTTP server on a loopback address with GET /metrics and GET /healthz, on its own threads.
class MetricsServer {
 public:
  // `listen` is HOST:PORT with a loopback HOST; port 0 picks a free one. Throws InvalidArgument
  // for any other host, and an error when it cannot bind.
  MetricsServer(const std::string& listen, const KeepFreshStatus& status);
  ~MetricsServer();  // stops serving and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  std::string address() const;  // HOST:PORT actually bound

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::cli
