// Secret handling: wiping, redacted display, constant-time comparison (all via OpenSSL).
#include "momento/auth/secret.hpp"

#include <openssl/crypto.h>

#include "crypto.hpp"

namespace momento::auth {

void wipe(void* data, size_t size) noexcept {
  if (data != nullptr && size > 0) OPENSSL_cleanse(data, size);
}

void wipe(std::string& s) noexcept {
  // Grow to the full capacity (no reallocation) so bytes left over from earlier, longer
  // contents are cleansed too.
  try {
    s.resize(s.capacity());
  } catch (...) {
  }
  wipe(s.data(), s.size());
  s.clear();
}

namespace {

// First 8 hex digits of SHA-256(data); "????????" if the digest is unavailable.
std::string short_fingerprint(std::string_view data) {
  try {
    return detail::hex(detail::sha256(data)).substr(0, 8);
  } catch (const std::exception&) {
    return "????????";
  }
}

}  // namespace

std::string redact(std::string_view secret) {
  if (secret.empty()) return "<empty>";
  // Show at most 4 bytes, and never more than half of a short secret.
  size_t shown = std::min<size_t>(4, secret.size() / 2);
  // Do not cut a UTF-8 sequence in the middle.
  while (shown > 0 && (static_cast<unsigned char>(secret[shown]) & 0xC0) == 0x80) --shown;
  std::string out;
  out.reserve(shown + 16);
  for (size_t i = 0; i < shown; ++i) {
    unsigned char c = static_cast<unsigned char>(secret[i]);
    out.push_back((c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c));
  }
  out += "\xE2\x80\xA6#";  // U+2026 HORIZONTAL ELLIPSIS
  out += short_fingerprint(secret);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace momento::auth
