#include "parse.hpp"

#include "util/encoding.hpp"

#include <charconv>
#include <ctime>
#include <limits>

namespace momento::cli {

int64_t now_epoch_seconds() noexcept { return static_cast<int64_t>(std::time(nullptr)); }

void throw_invalid(const std::string& message) {
  throw Error(MOMENTO_ERR_INVALID_ARGUMENT, message, -1, false);
}

int exit_code_for(momento_status_t code) noexcept {
  switch (code) {
    case MOMENTO_ERR_INVALID_ARGUMENT: return kExitInvalidInput;
    case MOMENTO_ERR_AUTHENTICATION:
    case MOMENTO_ERR_PERMISSION: return kExitAuth;
    case MOMENTO_ERR_SERVER_UNAVAILABLE:
    case MOMENTO_ERR_TIMEOUT:
    case MOMENTO_ERR_CONNECTION: return kExitUnreachable;
    default: return kExitOther;
  }
}

std::string hint_for(momento_status_t code) {
  switch (code) {
    case MOMENTO_ERR_INVALID_ARGUMENT:
      return "check the value named above; `momento-auth --help` lists the accepted forms";
    case MOMENTO_ERR_AUTHENTICATION:
      return "the key was not accepted (unknown, expired or revoked): use a current key, or "
             "refresh an expiring one with `momento-auth refresh --file FILE` before it expires";
    case MOMENTO_ERR_PERMISSION:
      return "the key is valid but its scope does not allow this call: use a key with the needed "
             "permissions (minting keys and managing caches need a super-user key; minting "
             "super-user keys needs a session token)";
    case MOMENTO_ERR_SERVER_UNAVAILABLE:
    case MOMENTO_ERR_CONNECTION:
      return "is the server running and the address right? a local momento-auth-server speaks "
             "plaintext: pass --endpoint HOST:PORT --insecure";
    case MOMENTO_ERR_TIMEOUT:
      return "the server did not answer in time: check it is healthy, or raise --timeout";
    case MOMENTO_ERR_NOT_FOUND:
      return "the named cache does not exist: create it first (`momento-auth cache create-cache`)";
    case MOMENTO_ERR_ALREADY_EXISTS:
      return "the cache already exists; nothing to do";
    default:
      return "";
  }
}

std::string_view trim(std::string_view s) noexcept {
  return momento::auth::detail::trim_ascii_whitespace(s);
}

namespace {

// Parses a non-negative decimal number that fills the whole string.
bool parse_uint(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" as UTC; false when not a valid date.
bool parse_date(std::string_view s, int64_t& epoch) {
  int64_t y, mo, d, h = 0, mi = 0, se = 0;
  if (s.size() != 10 && s.size() != 20) return false;
  if (s[4] != '-' || s[7] != '-') return false;
  if (!parse_uint(s.substr(0, 4), y) || !parse_uint(s.substr(5, 2), mo) ||
      !parse_uint(s.substr(8, 2), d))
    return false;
  if (s.size() == 20) {
    if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') return false;
    if (!parse_uint(s.substr(11, 2), h) || !parse_uint(s.substr(14, 2), mi) ||
        !parse_uint(s.substr(17, 2), se))
      return false;
  }
  std::tm tm{};
  tm.tm_year = static_cast<int>(y) - 1900;
  tm.tm_mon = static_cast<int>(mo) - 1;
  tm.tm_mday = static_cast<int>(d);
  tm.tm_hour = static_cast<int>(h);
  tm.tm_min = static_cast<int>(mi);
  tm.tm_sec = static_cast<int>(se);
  const time_t t = timegm(&tm);
  // timegm normalises out-of-range fields (Feb 30 -> Mar 2); a round trip catches them.
  std::tm back{};
  if (t == static_cast<time_t>(-1) || gmtime_r(&t, &back) == nullptr) return false;
  if (back.tm_year != tm.tm_year || back.tm_mon != mo - 1 || back.tm_mday != d ||
      back.tm_hour != h || back.tm_min != mi || back.tm_sec != se)
    return false;
  epoch = static_cast<int64_t>(t);
  return true;
}

}  // namespace

ExpiresIn parse_expires_in(std::string_view text, int64_t now) {
  const std::string_view s = trim(text);
  const std::string shown(s.substr(0, 40));
  if (s.empty()) throw_invalid("--expires-in is empty; use e.g. 30d, 12h, 90m, 45s, never or 2027-01-31");
  if (s == "never") return ExpiresIn::never();
  int64_t epoch = 0;
  if (s.size() >= 10 && s[4] == '-') {
    if (!parse_date(s, epoch))
      throw_invalid("--expires-in '" + shown + "' is not a valid date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
    if (epoch <= now) throw_invalid("--expires-in '" + shown + "' lies in the past");
    // Relative to the caller's clock (at_epoch in the library would read the clock again).
    return ExpiresIn::seconds(epoch - now);
  }
  const char unit = s.back();
  int64_t n = 0;
  if (!parse_uint(s.substr(0, s.size() - 1), n))
    throw_invalid("--expires-in '" + shown + "' is not understood; use e.g. 30d, 12h, 90m, 45s, never or 2027-01-31");
  if (n == 0) throw_invalid("--expires-in must be positive");
  switch (unit) {
    case 'd': return ExpiresIn::days(n);
    case 'h': return ExpiresIn::hours(n);
    case 'm': return ExpiresIn::minutes(n);
    case 's': return ExpiresIn::seconds(n);
    default:
      throw_invalid("--expires-in '" + shown + "' has an unknown unit; use d, h, m or s (e.g. 30d)");
  }
}

Scope parse_scope(std::string_view text) {
  const std::string_view s = trim(text);
  if (s == "super-user") return Scope::super_user();
  if (s == "all-data-read-write") return Scope::all_data_read_write();
  if (s == "all-data-read-only") return Scope::all_data_read_only();
  throw_invalid("--scope '" + std::string(s.substr(0, 40)) +
                "' is not known; use super-user, all-data-read-write or all-data-read-only");
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option) {
  const std::string_view s = trim(text);
  const std::string shown(s.substr(0, 40));
  int64_t n = 0;
  int64_t scale = 1000;
  std::string_view num = s;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    num = s.substr(0, s.size() - 2);
    scale = 1;
  } else if (!s.empty() && s.back() == 's') {
    num = s.substr(0, s.size() - 1);
  } else if (!s.empty() && s.back() == 'm') {
    num = s.substr(0, s.size() - 1);
    scale = 60000;
  }
  if (!parse_uint(num, n) || n == 0)
    throw_invalid(std::string(option) + " '" + shown +
                  "' is not a positive duration; use e.g. 15, 15s, 500ms or 2m");
  if (n > std::numeric_limits<int64_t>::max() / scale)
    throw_invalid(std::string(option) + " is too large");
  return std::chrono::milliseconds(n * scale);
}

std::string format_epoch_utc(uint64_t epoch) {
  const time_t t = static_cast<time_t>(epoch);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(epoch);
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return std::to_string(epoch);
  return buf;
}

std::string describe_expiry(uint64_t epoch, int64_t now) {
  if (epoch == 0) return "never";
  std::string s = format_epoch_utc(epoch);
  if (static_cast<uint64_t>(now) >= epoch) return s + " (expired)";
  const int64_t left = static_cast<int64_t>(epoch) - now;
  const int64_t d = left / 86400, h = (left % 86400) / 3600, m = (left % 3600) / 60, sec = left % 60;
  std::string rel;
  if (d > 0) rel = std::to_string(d) + "d " + std::to_string(h) + "h";
  else if (h > 0) rel = std::to_string(h) + "h " + std::to_string(m) + "m";
  else if (m > 0) rel = std::to_string(m) + "m " + std::to_string(sec) + "s";
  else rel = std::to_string(sec) + "s";
  return s + " (in " + rel + ")";
}

}  // namespace momento::cli
