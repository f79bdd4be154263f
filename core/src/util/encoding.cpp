// Base64 via OpenSSL's EVP block codec; the strictness rules of docs/wire.md §4.4 are checked first
// because EVP_DecodeBlock alone accepts only the standard alphabet and ignores some whitespace.
#include "encoding.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

namespace momento::auth::detail {

namespace {

bool is_ascii_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_alnum(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

enum class Alphabet { Standard, UrlSafe, Either };

// Checks characters and padding; on success reports the alphabet used and the padding count.
bool check_base64(std::string_view s, Alphabet allowed, bool require_padding_rules,
                  size_t* pad_out) noexcept {
  if (s.empty() || s.size() > INT_MAX / 2) return false;
  size_t pad = 0;
  while (pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  if (pad > 2) return false;
  std::string_view body = s.substr(0, s.size() - pad);
  bool saw_std = false, saw_url = false;
  for (char c : body) {
    if (is_alnum(c)) continue;
    if (c == '+' || c == '/') {
      saw_std = true;
    } else if (c == '-' || c == '_') {
      saw_url = true;
    } else {
      return false;  // includes '=' in the middle, '.', spaces
    }
  }
  if (saw_std && saw_url) return false;
  if (allowed == Alphabet::Standard && saw_url) return false;
  if (allowed == Alphabet::UrlSafe && saw_std) return false;
  if (pad > 0) {
    if (s.size() % 4 != 0) return false;
  } else if (require_padding_rules && body.size() % 4 == 1) {
    return false;
  }
  if (body.size() % 4 == 1) return false;  // never a whole number of bytes
  if (pad_out) *pad_out = pad;
  return true;
}

std::optional<std::string> decode_checked(std::string_view s, size_t pad) {
  std::string body(s.substr(0, s.size() - pad));
  for (char& c : body) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  // Padding was stripped above; restore exactly what a whole number of quads needs.
  size_t total_pad = (4 - body.size() % 4) % 4;
  body.append(total_pad, '=');
  if (body.empty()) return std::string();
  std::string out(body.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(body.data()),
                          static_cast<int>(body.size()));
  OPENSSL_cleanse(body.data(), body.size());
  if (n < 0 || static_cast<size_t>(n) != out.size() || total_pad > 2) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding positions as zero bytes.
  out.resize(out.size() - total_pad);
  return out;
}

}  // namespace

bool is_blank(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_ascii_space(c) || c == '\f' || c == '\v';
  });
}

std::optional<size_t> utf8_code_points(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0, count = 0;
  while (i < n) {
    // Keys, tokens and endpoints are ASCII: skip 8 bytes at a time while no high bit is set.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
      count += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    ++count;
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return std::nullopt;  // continuation byte, overlong lead (C0/C1) or beyond F4
    if (i + len > n) return std::nullopt;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return std::nullopt;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;                            // surrogate
    if (cp > 0x10FFFF) return std::nullopt;
    i += len;
  }
  return count;
}

bool is_valid_utf8(std::string_view s) noexcept { return utf8_code_points(s).has_value(); }

bool has_control_characters(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F &&
        static_cast<unsigned char>(s[i + 1]) >= 0x80)
      return true;
  }
  return false;
}

bool is_strict_base64(std::string_view s) noexcept {
  return check_base64(s, Alphabet::Either, true, nullptr);
}

std::optional<std::string> base64_decode(std::string_view s) {
  size_t pad = 0;
  if (!check_base64(s, Alphabet::Either, true, &pad)) return std::nullopt;
  return decode_checked(s, pad);
}

std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.empty()) return std::string();
  size_t pad = 0;
  if (!check_base64(s, Alphabet::UrlSafe, true, &pad)) return std::nullopt;
  return decode_checked(s, pad);
}

std::optional<std::string> base64url_decode_canonical(std::string_view s) {
  auto out = base64url_decode(s);
  // Unused low bits in the last character must be zero: re-encoding gives the text back.
  if (out && base64url_encode(*out) != s.substr(0, s.find('='))) {
    OPENSSL_cleanse(out->data(), out->size());
    return std::nullopt;
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  if (bytes.empty()) return {};
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

}  // namespace momento::auth::detail
