// One line per call on stderr, text or JSON. Callers pass only redacted credentials.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace momento::server {

enum class LogFormat { Text, Json, Off };

struct CallRecord {
  std::string method;      // "/auth.Auth/GenerateApiToken"
  std::string peer;
  std::string caller;      // redacted credential, or "-"
  std::string key_id;      // public id of the caller's key, if authenticated
  std::string status;      // "OK", "PERMISSION_DENIED", ...
  std::string message;     // status message (never contains secrets)
  std::string fault;       // injected faults, if any
  std::string detail;      // e.g. minted key id
  double millis = 0;
  bool wanted = true;      // false when logging is off: the fields above need not be filled
};

class Logger {
 public:
  explicit Logger(LogFormat f = LogFormat::Text, std::FILE* out = stderr) : fmt_(f), out_(out) {}
  void call(const CallRecord& r);
  void event(std::string_view what);  // start-up and shutdown notes
  bool enabled() const { return fmt_ != LogFormat::Off; }

 private:
  LogFormat fmt_;
  std::FILE* out_;
  std::mutex mu_;
};

}  // namespace momento::server
