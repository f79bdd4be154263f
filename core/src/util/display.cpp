#include "momento/auth/display.hpp"

#include <sys/stat.h>

#include <cstdio>

#include "encoding.hpp"

namespace momento::auth {

namespace {

// Length of the UTF-8 sequence starting at s[i] when it is well formed and not a C1 control
// (U+0080..U+009F); 0 otherwise.
size_t printable_utf8_length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  if (!detail::is_valid_utf8(s.substr(i, n))) return 0;
  if (b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) return 0;  // C1 control
  return n;
}

bool key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '_' || c == '=' || c == '.';
}

}  // namespace

std::string printable(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F) {
      if (b == '\\') out += "\\\\";
      else out += static_cast<char>(b);
      ++i;
      continue;
    }
    if (b >= 0x80) {
      if (const size_t n = printable_utf8_length(s, i); n > 0) {
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
    }
    switch (b) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case 0x1B: out += "\\e"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", b);
        out += buf;
      }
    }
    ++i;
  }
  return out;
}

std::string shown_path(std::string_view path, bool quoted) {
  const std::string placeholder = "(a path of " + std::to_string(path.size()) +
                                  " bytes, not shown: it names no file and may be a key)";
  if (path.find('\0') != std::string_view::npos || path.size() > 4096) return placeholder;
  struct stat st {};
  const bool exists = ::lstat(std::string(path).c_str(), &st) == 0;
  if (!exists) {
    // Every JWT and v1 envelope starts with "eyJ" (base64 of '{"'); refresh tokens are base64url.
    if (path.find("eyJ") != std::string_view::npos || (path.size() >= 32 && detail::is_strict_base64(path)))
      return placeholder;
    size_t run = 0;
    for (char c : path) {
      run = key_char(c) ? run + 1 : 0;
      if (run >= 32) return placeholder;
    }
  }
  return quoted ? "'" + printable(path, 200) + "'" : printable(path, 200);
}

}  // namespace momento::auth
