#include "crypto.hpp"

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

#include "momento/auth/secret.hpp"

namespace momento::server {

std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string s(text);
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (text.size() - s.size() > 2) return std::nullopt;
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return std::nullopt;
  }
  if (s.size() % 4 == 1) return std::nullopt;
  size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(3 * s.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  // Reject non-canonical encodings (stray bits in the last character) so that each
  // key has exactly one textual form.
  if (base64url_encode(out) != std::string_view(text).substr(0, text.find('='))) return std::nullopt;
  return out;
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("random number generator failed");
  return out;
}

std::string random_token(size_t n_bytes) {
  std::string raw = random_bytes(n_bytes);
  std::string out = base64url_encode(raw);
  momento::auth::wipe(raw);
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256 failed");
  return out;
}

namespace {
struct MacFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
// A keyless HMAC-SHA256 context per thread, duplicated for each MAC: saves fetching the MAC and
// the digest from the provider on every call (the one-shot HMAC() does both), and no key stays
// behind in it.
EVP_MAC_CTX* hmac_template() {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacFree> tmpl = [] {
    std::unique_ptr<EVP_MAC_CTX, MacFree> c;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) return c;
    c.reset(EVP_MAC_CTX_new(mac));
    EVP_MAC_free(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    if (c && EVP_MAC_CTX_set_params(c.get(), params) != 1) c.reset();
    return c;
  }();
  return tmpl.get();
}
}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  EVP_MAC_CTX* tmpl = hmac_template();
  std::unique_ptr<EVP_MAC_CTX, MacFree> ctx(tmpl ? EVP_MAC_CTX_dup(tmpl) : nullptr);
  std::string out(EVP_MAX_MD_SIZE, '\0');
  size_t len = 0;
  if (!ctx ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   nullptr) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1)
    throw std::runtime_error("hmac failed");
  out.resize(len);
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
