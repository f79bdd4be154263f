#include "crypto.hpp"

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "momento/auth/secret.hpp"

namespace momento::server {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("random number generator failed");
  return out;
}

void check_private_key_file(const std::string& path, bool allow_readable) {
  struct stat st {};
  if (allow_readable || ::stat(path.c_str(), &st) != 0 || !(st.st_mode & (S_IRWXG | S_IRWXO))) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  throw std::runtime_error(path + " is open to group or others (mode " + mode +
                           "): chmod 600 it, or pass --allow-readable-keys");
}

std::string random_token(size_t n_bytes) {
  std::string raw = random_bytes(n_bytes);
  std::string out = base64url_encode(raw);
  momento::auth::wipe(raw);
  return out;
}

namespace {
constexpr size_t kNonce = 12, kTag = 16;
constexpr std::string_view kSealLabel = "momento-auth-server seal v1";

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
}  // namespace

std::string seal(std::string_view secret, std::string_view plaintext) {
  std::string key = hmac_sha256(secret, kSealLabel);
  std::string out = random_bytes(kNonce);
  out.resize(kNonce + plaintext.size() + kTag);
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                      reinterpret_cast<const unsigned char*>(key.data()), o) == 1 &&
            EVP_EncryptUpdate(ctx.get(), o + kNonce, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                                o + kNonce + plaintext.size()) == 1;
  momento::auth::wipe(key);
  if (!ok) throw std::runtime_error("seal failed");
  return out;
}

std::optional<std::string> open_sealed(std::string_view secret, std::string_view sealed) {
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  std::string key = hmac_sha256(secret, kSealLabel);
  size_t n = sealed.size() - kNonce - kTag;
  std::string out(n, '\0');
  std::string tag(sealed.substr(kNonce + n));
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  int len = 0, fin = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                      reinterpret_cast<const unsigned char*>(key.data()), in) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                              in + kNonce, static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                                &fin) == 1;
  momento::auth::wipe(key);
  if (!ok) {
    momento::auth::wipe(out);
    return std::nullopt;
  }
  return out;
}

}  // namespace momento::server
