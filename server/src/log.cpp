#include "log.hpp"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace momento::server {

namespace {
std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}
}  // namespace

void Logger::call(const CallRecord& r) {
  if (fmt_ == LogFormat::Off) return;
  std::string line;
  if (fmt_ == LogFormat::Json) {
    nlohmann::json j = {{"ts", timestamp()},      {"method", r.method}, {"peer", r.peer},
                        {"caller", r.caller},     {"status", r.status}, {"ms", r.millis}};
    if (!r.key_id.empty()) j["key_id"] = r.key_id;
    if (!r.message.empty()) j["message"] = r.message;
    if (!r.fault.empty()) j["fault"] = r.fault;
    if (!r.detail.empty()) j["detail"] = r.detail;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.2fms", r.millis);
    line = timestamp() + " " + r.method + " " + r.status + " " + ms + " caller=" + r.caller;
    if (!r.key_id.empty()) line += " key_id=" + r.key_id;
    line += " peer=" + r.peer;
    if (!r.fault.empty()) line += " fault=\"" + r.fault + "\"";
    if (!r.detail.empty()) line += " " + r.detail;
    if (!r.message.empty()) line += " msg=\"" + r.message + "\"";
  }
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void Logger::event(std::string_view what) {
  if (fmt_ == LogFormat::Off) return;
  std::string line;
  if (fmt_ == LogFormat::Json)
    line = nlohmann::json{{"ts", timestamp()}, {"event", std::string(what)}}.dump();
  else
    line = timestamp() + " " + std::string(what);
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace momento::server
