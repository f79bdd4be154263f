// Base64 decoding by table (the strictness rules of docs/wire.md §4.4 checked in the same table
// walk, which parsing a credential runs on every call); encoding via OpenSSL's EVP block codec.
#include "encoding.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>

namespace momento::auth::detail {

namespace {

bool is_ascii_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

enum class Alphabet { Standard, UrlSafe, Either };

// One byte per character: its 6-bit value, plus kStd for '+' '/' and kUrl for '-' '_'. Invalid
// characters have both flags, so OR-ing the entries of a text shows both flags exactly when it
// holds an invalid character or mixes the two alphabets.
constexpr unsigned char kStd = 0x40, kUrl = 0x80, kBad = kStd | kUrl;
constexpr auto kBase64 = [] {
  std::array<unsigned char, 256> t{};
  t.fill(kBad);
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<unsigned char>(i);
    t['a' + i] = static_cast<unsigned char>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<unsigned char>(52 + i);
  t['+'] = 62 | kStd;
  t['/'] = 63 | kStd;
  t['-'] = 62 | kUrl;
  t['_'] = 63 | kUrl;
  return t;
}();

unsigned char b64(char c) noexcept { return kBase64[static_cast<unsigned char>(c)]; }

// Length and padding rules; on success reports the padding count.
bool shape_ok(std::string_view s, size_t* pad_out) noexcept {
  if (s.empty() || s.size() > INT_MAX / 2) return false;
  size_t pad = 0;
  while (pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  if (pad > 2) return false;
  if (pad > 0 && s.size() % 4 != 0) return false;
  if ((s.size() - pad) % 4 == 1) return false;  // never a whole number of bytes
  *pad_out = pad;
  return true;
}

// `seen` is the OR of the table entries of the text without its padding.
bool alphabet_ok(unsigned char seen, Alphabet allowed) noexcept {
  if ((seen & kBad) == kBad) return false;  // '=' in the middle, '.', spaces, or mixed alphabets
  if (allowed == Alphabet::Standard && (seen & kUrl)) return false;
  if (allowed == Alphabet::UrlSafe && (seen & kStd)) return false;
  return true;
}

bool check_base64(std::string_view s, Alphabet allowed) noexcept {
  size_t pad = 0;
  if (!shape_ok(s, &pad)) return false;
  unsigned char seen = 0;
  for (char c : s.substr(0, s.size() - pad)) seen |= b64(c);
  return alphabet_ok(seen, allowed);
}

// The same table with each value already in place for its position in a quad (the first
// character gives the top 6 of 24 bits), and its flags above the 24 bits.
constexpr auto kQuad = [] {
  std::array<std::array<uint32_t, 256>, 4> t{};
  for (int c = 0; c < 256; ++c) {
    uint32_t v = kBase64[c] & 0x3F, flags = uint32_t(kBase64[c] & kBad) << 24;
    for (int k = 0; k < 4; ++k) t[k][c] = v << (18 - 6 * k) | flags;
  }
  return t;
}();

// Checks and decodes in one pass, into out (room for base64_decoded_bound(s.size()) bytes: whole
// quads are stored 4 bytes at a time; it holds garbage when the text is rejected). Like
// EVP_DecodeBlock, unused low bits of a final partial quad are ignored.
std::optional<size_t> decode_into(std::string_view s, Alphabet allowed, char* out) noexcept {
  size_t pad = 0;
  if (!shape_ok(s, &pad)) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size() - pad;
  uint32_t seen = 0;
  char* o = out;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t q = kQuad[0][p[i]] | kQuad[1][p[i + 1]] | kQuad[2][p[i + 2]] | kQuad[3][p[i + 3]];
    seen |= q;
    if constexpr (std::endian::native == std::endian::little) {
      uint32_t w = __builtin_bswap32(q << 8);  // the 3 bytes in order, then one spare
      std::memcpy(o, &w, 4);
    } else {
      o[0] = static_cast<char>(q >> 16), o[1] = static_cast<char>(q >> 8), o[2] = static_cast<char>(q);
    }
    o += 3;
  }
  if (n - i >= 2) {
    uint32_t q = kQuad[0][p[i]] | kQuad[1][p[i + 1]] | (n - i == 3 ? kQuad[2][p[i + 2]] : 0);
    seen |= q;
    *o++ = static_cast<char>(q >> 16);
    if (n - i == 3) *o++ = static_cast<char>(q >> 8);
  }
  if (!alphabet_ok(static_cast<unsigned char>(seen >> 24), allowed)) return std::nullopt;
  return static_cast<size_t>(o - out);
}

std::optional<std::string> decode(std::string_view s, Alphabet allowed) {
  std::string out(base64_decoded_bound(s.size()), '\0');
  auto n = decode_into(s, allowed, out.data());
  if (!n) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(*n);
  return out;
}

}  // namespace

std::optional<size_t> base64_decode_into(std::string_view s, char* out) noexcept {
  return decode_into(s, Alphabet::Either, out);
}

std::optional<size_t> base64url_decode_into(std::string_view s, char* out) noexcept {
  if (s.empty()) return 0;
  return decode_into(s, Alphabet::UrlSafe, out);
}

bool is_blank(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_ascii_space(c) || c == '\f' || c == '\v';
  });
}

std::optional<size_t> utf8_code_points(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0, count = 0;
  while (i < n) {
    // Keys, tokens and endpoints are ASCII: skip 32, then 8 bytes at a time while no high bit
    // is set.
    while (i + 32 <= n) {
      uint64_t w[4];
      std::memcpy(w, p + i, 32);
      if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) break;
      i += 32;
      count += 32;
    }
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

bool is_strict_base64(std::string_view s) noexcept { return check_base64(s, Alphabet::Either); }

bool is_base64url(std::string_view s) noexcept { return check_base64(s, Alphabet::UrlSafe); }

std::optional<std::string> base64_decode(std::string_view s) { return decode(s, Alphabet::Either); }

std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.empty()) return std::string();
  return decode(s, Alphabet::UrlSafe);
}

std::optional<std::string> base64url_decode_canonical(std::string_view s) {
  auto out = base64url_decode(s);
  if (!out) return out;
  // Unused low bits in the last character must be zero: re-encoding gives the text back. The
  // text may be a secret (a signing key): the copy is wiped.
  std::string again = base64url_encode(*out);
  const bool canonical = again == s.substr(0, s.find('='));
  OPENSSL_cleanse(again.data(), again.size());
  if (!canonical) {
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
