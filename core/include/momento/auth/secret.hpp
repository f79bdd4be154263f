// Secret strings: wiped on destruction, never printed whole.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace momento::auth {

// Overwrites `size` bytes at `data` (OPENSSL_cleanse: the compiler keeps the stores). The one
// wiping primitive: the C ABI exports it as momento_wipe for auth.hpp, the CLI and the bindings.
void wipe(void* data, size_t size) noexcept;
// Overwrites the bytes of a string, its whole capacity included, and clears it.
void wipe(std::string& s) noexcept;

// An owned secret. Moves leave the source empty; destruction wipes the buffer.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.value_.clear(); }
  Secret& operator=(const Secret& other) {
    if (this != &other) { wipe(value_); value_ = other.value_; }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) { wipe(value_); value_ = std::move(other.value_); other.value_.clear(); }
    return *this;
  }
  ~Secret() { wipe(value_); }

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

 private:
  std::string value_;
};

// Safe display of a secret: its first 4 characters and a short SHA-256 fingerprint,
// e.g. "eyJh…#3f9a2c1d". Empty input gives "<empty>".
std::string redact(std::string_view secret);

// Constant-time equality (CRYPTO_memcmp); lengths are not secret.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace momento::auth
