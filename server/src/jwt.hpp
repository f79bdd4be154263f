// JWT-shaped API keys: HS256 over base64url segments, signed with keys from a key ring
// kept in the data directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "momento/auth/secret.hpp"

namespace momento::server {

struct SigningKey {
  std::string kid;
  momento::auth::Secret secret;  // 32 random bytes
  int64_t created = 0;
};

// The signing keys of a data directory, stored as JSON in one 0600 file. The last key is
// the current one; older keys remain for verification so that rotation never invalidates
// keys already issued. A running server notices a rotation made by the admin command.
class KeyRing {
 public:
  // Loads the file, creating it (0600) with one fresh key if it does not exist.
  static KeyRing open(const std::filesystem::path& file);

  KeyRing(KeyRing&&) noexcept;
  KeyRing& operator=(KeyRing&&) = delete;

  // Appends a fresh key and makes it current (atomic file replace). Returns its kid.
  std::string rotate();

  // kid of the current key.
  std::string current_kid();
  size_t size();

  // Sign with the current key. Re-reads the file if another process changed it.
  std::string sign(std::string_view signing_input, std::string* kid_out);
  // Verify an HS256 MAC with the named key (constant-time); false for unknown kids.
  bool verify(std::string_view kid, std::string_view signing_input, std::string_view mac);

 private:
  explicit KeyRing(std::filesystem::path file) : file_(std::move(file)) {}
  void load_locked();
  void save_locked() const;
  void refresh_if_changed();

  std::filesystem::path file_;
  std::shared_mutex mu_;
  std::vector<SigningKey> keys_;
  std::filesystem::file_time_type mtime_{};
};

struct Claims {
  std::string jti;  // >= 128 random bits, base64url
  int64_t iat = 0;
  int64_t exp = 0;  // 0 = never expires (no exp claim)
};

// header.payload.signature with header {"alg":"HS256","typ":"JWT","kid":...}.
// *kid_out (optional) receives the kid the token was signed with.
std::string sign_jwt(KeyRing& ring, const Claims& claims, std::string* kid_out = nullptr);

enum class JwtCheck { Ok, Malformed, BadAlgorithm, UnknownKey, BadSignature, Expired };
const char* jwt_check_name(JwtCheck c) noexcept;

// Verifies structure, algorithm (allow-list: HS256 only), signature and expiry.
// `now` is epoch seconds. On Ok, *out receives the claims.
JwtCheck verify_jwt(KeyRing& ring, std::string_view token, int64_t now, Claims* out);

}  // namespace momento::server
