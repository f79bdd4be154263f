#include "parse.hpp"

#include "util/encoding.hpp"
#include "util/net.hpp"
#include "util/time.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <vector>

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

ExpiresIn parse_expires_in(std::string_view text, int64_t now, std::string_view option) {
  const std::string_view s = trim(text);
  const std::string opt(option);
  const std::string shown = "'" + printable(s, 40) + "'";
  const char* forms = "; use e.g. 30d, 12h, 1h30m, 45s, never or 2027-01-31";
  if (s.empty()) throw_invalid(opt + " is empty" + forms);
  if (s == "never") return ExpiresIn::never();
  int64_t epoch = 0;
  if (s.size() >= 10 && s[4] == '-') {
    if (!parse_date(s, epoch))
      throw_invalid(opt + " " + shown + " is not a valid date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
    if (epoch <= now) throw_invalid(opt + " " + shown + " lies in the past");
    // Relative to the caller's clock (at_epoch in the library would read the clock again).
    return ExpiresIn::seconds(epoch - now);
  }
  // A bare number has no obvious unit here: require one.
  int64_t bare = 0;
  if (parse_uint(s, bare)) throw_invalid(opt + " " + shown + " needs a unit" + forms);
  const auto d = parse_duration(s, option);
  if (d.count() % 1000 != 0) throw_invalid(opt + " " + shown + " must be whole seconds");
  return ExpiresIn::seconds(d.count() / 1000);
}

std::string predefined_scope_names(const char* separator, const char* last_separator) {
  std::vector<std::string> names;
  for (int32_t which = 1; const char* name = momento_scope_predefined_str(which); ++which) names.emplace_back(name);
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? last_separator : separator) + names[i];
  return out;
}

Scope parse_scope(std::string_view text) {
  const std::string s(trim(text));
  const int32_t which = s.find('\0') == std::string::npos ? momento_scope_predefined_from_str(s.c_str()) : 0;
  if (which != 0) return Scope::predefined(which);
  throw_invalid("--scope '" + printable(s, 40) + "' is not known; use " + predefined_scope_names(", ", " or ") +
                " (or --permit for a fine-grained scope)");
}

namespace {

// Splits off the text before the next ':' (all of it when there is none).
std::string_view next_field(std::string_view& rest) {
  const size_t colon = rest.find(':');
  std::string_view f = rest.substr(0, colon);
  rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  return f;
}

CacheName cache_of(std::string_view f) {
  if (f.empty() || f == "*") return std::nullopt;
  return std::string(f);
}

Select select_of(std::string_view f) {
  if (f.empty() || f == "*") return Select::all();
  if (f.back() == '*') return Select::prefix(std::string(f.substr(0, f.size() - 1)));
  return Select::named(std::string(f));
}

}  // namespace

void add_permission(Scope& scope, std::string_view spec) {
  const std::string shown = "--permit '" + printable(spec, 80) + "'";
  std::string_view rest = spec;
  const std::string_view kind = next_field(rest);
  const std::string_view role = next_field(rest);
  auto bad_role = [&](const char* roles) -> void {
    throw_invalid(shown + ": unknown " + std::string(kind) + " role '" + printable(role, 40) +
                  "'; use " + roles);
  };
  if (kind == "cache" || kind == "item") {
    CacheRole r{};
    if (role == "read-write") r = CacheRole::ReadWrite;
    else if (role == "read-only") r = CacheRole::ReadOnly;
    else if (role == "write-only") r = CacheRole::WriteOnly;
    else bad_role("read-write, read-only or write-only");
    const std::string_view cache = next_field(rest);
    if (kind == "cache") {
      if (!rest.empty()) throw_invalid(shown + ": cache entries take ROLE and CACHE only");
      scope.add_cache(r, cache_of(cache));
      return;
    }
    // item:ROLE:CACHE:key=KEY | key-prefix=PREFIX; the key is the rest (it may contain ':').
    if (cache.empty() || cache == "*")
      throw_invalid(shown + ": item entries name one cache (item:ROLE:CACHE:key=KEY)");
    if (rest.substr(0, 4) == "key=") {
      scope.add_cache_items(r, std::string(cache), Items::key(std::string(rest.substr(4))));
    } else if (rest.substr(0, 11) == "key-prefix=") {
      scope.add_cache_items(r, std::string(cache), Items::key_prefix(std::string(rest.substr(11))));
    } else {
      throw_invalid(shown + ": item entries end in key=KEY or key-prefix=PREFIX");
    }
    return;
  }
  if (kind == "topic") {
    TopicRole r{};
    if (role == "publish-subscribe") r = TopicRole::PublishSubscribe;
    else if (role == "subscribe-only") r = TopicRole::SubscribeOnly;
    else if (role == "publish-only") r = TopicRole::PublishOnly;
    else bad_role("publish-subscribe, subscribe-only or publish-only");
    const std::string_view cache = next_field(rest);
    const std::string_view topic = next_field(rest);
    if (!rest.empty()) throw_invalid(shown + ": topic entries take ROLE, CACHE and TOPIC only");
    scope.add_topic(r, cache_of(cache), select_of(topic));
    return;
  }
  if (kind == "function") {
    if (role != "invoke") bad_role("invoke");
    const std::string_view cache = next_field(rest);
    const std::string_view function = next_field(rest);
    if (!rest.empty()) throw_invalid(shown + ": function entries take ROLE, CACHE and FUNCTION only");
    scope.add_function(FunctionRole::Invoke, cache_of(cache), select_of(function));
    return;
  }
  throw_invalid(shown + ": unknown kind '" + printable(kind, 40) +
                "'; use cache:ROLE[:CACHE], topic:ROLE[:CACHE[:TOPIC]], "
                "function:invoke[:CACHE[:FUNCTION]] or item:ROLE:CACHE:key=KEY");
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option) {
  const std::string_view s = trim(text);
  const std::string head = std::string(option) + " '" + printable(s, 40) + "'";
  auto bad = [&]() -> void {
    throw_invalid(head + " is not a positive duration; use e.g. 15 (seconds), 500ms, 90s, 2m, "
                         "1h30m or 2d12h");
  };
  int64_t plain = 0;
  if (parse_uint(s, plain)) {
    if (plain == 0) bad();
    if (plain > std::numeric_limits<int64_t>::max() / 1000) throw_invalid(head + " is too large");
    return std::chrono::seconds(plain);
  }
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  // In the order they must appear; "ms" before "m" so the longer name wins.
  static constexpr Unit kUnits[] = {{"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
  auto rank = [](std::string_view u) { return u == "d" ? 0 : u == "h" ? 1 : u == "m" ? 2 : u == "s" ? 3 : 4; };
  int64_t total = 0;
  int last_rank = -1;
  size_t i = 0;
  if (s.empty()) bad();
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    int64_t n = 0;
    if (j == i || !parse_uint(s.substr(i, j - i), n)) bad();
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits)
      if (s.substr(j, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    if (unit == nullptr) bad();
    const int r = rank(unit->name);
    if (r <= last_rank)
      throw_invalid(head + " repeats a unit or has them out of order; write larger units first (1h30m)");
    last_rank = r;
    if (n > (std::numeric_limits<int64_t>::max() - total) / unit->ms) throw_invalid(head + " is too large");
    total += n * unit->ms;
    i = j + unit->name.size();
  }
  if (total <= 0) bad();
  return std::chrono::milliseconds(total);
}

double parse_number(std::string_view text, std::string_view option) {
  const std::string s(trim(text));
  const std::string head = std::string(option) + " '" + printable(s, 40) + "'";
  double v = 0;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const bool parsed = ec == std::errc() && p == s.data() + s.size();
#else
  // libstdc++ 10 (GCC 10: the Debian 11 wheel build, docs/wheels.md) has no floating-point
  // from_chars: strtod in the "C" locale the command runs in, held to from_chars's syntax.
  char* end = nullptr;
  errno = 0;
  v = std::strtod(s.c_str(), &end);
  const bool parsed = !s.empty() && s[0] != '+' && s.find_first_of("xX") == std::string::npos &&
                      errno != ERANGE && end == s.c_str() + s.size();
#endif
  if (s.empty() || !parsed) throw_invalid(head + " is not a number");
  if (!std::isfinite(v)) throw_invalid(head + " must be a finite number");
  return v;
}

std::string printable(std::string_view s, size_t max_bytes) { return momento::printable(s, max_bytes); }

bool is_loopback_host(std::string_view host) noexcept {
  return momento::auth::detail::is_loopback_host(host);
}

std::string format_duration(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

std::string format_epoch_utc(uint64_t epoch) {
  return momento::auth::detail::format_utc(static_cast<int64_t>(epoch));
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
