#include "keep_fresh_status.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <httplib.h>
#include <sstream>
#include <thread>

#include "parse.hpp"

namespace momento::cli {

namespace {

// Label values: backslash, double quote and newline escaped, as the text format requires.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Milliseconds as seconds with one decimal; negative for a key that has expired.
std::string seconds(int64_t ms) {
  const uint64_t a = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  return (ms < 0 ? "-" : "") + std::to_string(a / 1000) + "." + std::to_string(a % 1000 / 100);
}

}  // namespace

int64_t now_epoch_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void KeepFreshStatus::record(const RefreshEvent& e, int64_t now_ms) {
  std::lock_guard lock(m_);
  switch (e.kind) {
    case RefreshEvent::Kind::Refreshed:
      last_refresh_ms_ = now_ms;
      ++outcomes_["refreshed"];
      break;
    case RefreshEvent::Kind::Adopted:
      ++outcomes_["adopted"];
      break;
    case RefreshEvent::Kind::Failed:
      ++outcomes_["failed"];
      break;
  }
  if (!e.key_fingerprint.empty()) {
    known_ = true;
    valid_until_ = e.valid_until;
  }
  if (e.kind == RefreshEvent::Kind::Failed) {
    failures_ = e.consecutive_failures;
    next_attempt_ms_ = e.next_attempt_ms;
    last_error_ = momento_status_str(e.error_code);
  } else {
    last_success_ms_ = now_ms;
    failures_ = 0;
    next_attempt_ms_ = 0;
  }
}

Health KeepFreshStatus::health(int64_t now_ms) const {
  std::lock_guard lock(m_);
  const int64_t expiry_ms = static_cast<int64_t>(valid_until_) * 1000;
  if (!known_)
    return {false, "no key read from the store yet" + (last_error_.empty() ? "" : " (" + last_error_ + ")")};
  if (valid_until_ != 0 && expiry_ms <= now_ms)
    return {false, "the key expired at " + format_epoch_utc(valid_until_)};
  if (failures_ > 0 && valid_until_ != 0 && next_attempt_ms_ != 0 && next_attempt_ms_ >= expiry_ms)
    return {false, "the key expires at " + format_epoch_utc(valid_until_) + ", before the next attempt at " +
                       format_epoch_utc(static_cast<uint64_t>(next_attempt_ms_ / 1000)) + " (" +
                       std::to_string(failures_) + " failures, last " + last_error_ + ")"};
  std::string why = valid_until_ == 0 ? "the key never expires" : "the key expires at " + format_epoch_utc(valid_until_);
  if (failures_ > 0) why += "; " + std::to_string(failures_) + " failures, next attempt before it expires";
  return {true, why};
}

std::string KeepFreshStatus::metrics(int64_t now_ms) const {
  const Health h = health(now_ms);
  std::lock_guard lock(m_);
  const std::string s = "{store=\"" + label(store_) + "\"}";
  std::ostringstream o;
  auto head = [&](const char* name, const char* type, const char* help) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  if (known_) {
    head("momento_auth_key_expiry_seconds", "gauge",
         "Seconds until the stored key expires (+Inf: it never expires; negative: it has expired).");
    o << "momento_auth_key_expiry_seconds" << s << ' '
      << (valid_until_ == 0 ? "+Inf" : seconds(static_cast<int64_t>(valid_until_) * 1000 - now_ms)) << '\n';
    head("momento_auth_key_valid_until_timestamp_seconds", "gauge",
         "When the stored key expires, in Unix seconds (0: never).");
    o << "momento_auth_key_valid_until_timestamp_seconds" << s << ' ' << valid_until_ << '\n';
  }
  head("momento_auth_last_refresh_timestamp_seconds", "gauge",
       "When this process last refreshed the key successfully, in Unix seconds (0: not yet).");
  o << "momento_auth_last_refresh_timestamp_seconds" << s << ' ' << seconds(last_refresh_ms_) << '\n';
  head("momento_auth_last_success_timestamp_seconds", "gauge",
       "When the store last held a fresh key after a pass (refreshed here or by a peer), in Unix seconds.");
  o << "momento_auth_last_success_timestamp_seconds" << s << ' ' << seconds(last_success_ms_) << '\n';
  head("momento_auth_refresh_consecutive_failures", "gauge", "Failed attempts since the last success.");
  o << "momento_auth_refresh_consecutive_failures" << s << ' ' << failures_ << '\n';
  head("momento_auth_refreshes_total", "counter",
       "Refresher passes by outcome: refreshed here, adopted a key a peer stored, failed.");
  for (const auto& [outcome, n] : outcomes_)
    o << "momento_auth_refreshes_total{store=\"" << label(store_) << "\",outcome=\"" << outcome << "\"} " << n
      << '\n';
  head("momento_auth_healthy", "gauge", "1 while /healthz would answer 200.");
  o << "momento_auth_healthy" << s << ' ' << (h.healthy ? 1 : 0) << '\n';
  return o.str();
}

void write_textfile_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // node_exporter reads only *.prom files: a temporary name without that suffix is skipped.
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp")).string();
  tmp += std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw_invalid("--metrics-file: cannot create a file next to it: " + std::string(std::strerror(errno)));
  size_t done = 0;
  bool ok = true;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    throw_invalid("--metrics-file: cannot write it: " + std::string(std::strerror(e)));
  }
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::string host;
  int port = 0;
  std::thread thread;
};

MetricsServer::MetricsServer(const std::string& listen, const KeepFreshStatus& status)
    : impl_(std::make_unique<Impl>()) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw_invalid("--metrics-listen wants HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!is_loopback_host(host))
    throw_invalid("--metrics-listen " + printable(listen, 80) +
                  ": the metrics and health endpoint listens on a loopback address only");
  const double port = parse_number(listen.substr(colon + 1), "--metrics-listen port");
  if (port < 0 || port > 65535 || port != static_cast<int>(port))
    throw_invalid("--metrics-listen: the port must be 0-65535");
  impl_->host = host == "localhost" ? "127.0.0.1" : host;

  auto& srv = impl_->server;
  srv.Get("/metrics", [&status](const httplib::Request&, httplib::Response& res) {
    res.set_content(status.metrics(now_epoch_ms()), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/healthz", [&status](const httplib::Request&, httplib::Response& res) {
    const Health h = status.health(now_epoch_ms());
    res.status = h.healthy ? 200 : 503;
    res.set_content((h.healthy ? "ok: " : "unhealthy: ") + h.reason + "\n", "text/plain; charset=utf-8");
  });
  if (port == 0) impl_->port = srv.bind_to_any_port(impl_->host);
  else impl_->port = srv.bind_to_port(impl_->host, static_cast<int>(port)) ? static_cast<int>(port) : -1;
  if (impl_->port < 0) throw_invalid("--metrics-listen " + printable(listen, 80) + ": cannot listen there");
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // bind_to_port has the socket listening already: connections queue until the loop runs.
}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string MetricsServer::address() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port);
}

}  // namespace momento::cli
