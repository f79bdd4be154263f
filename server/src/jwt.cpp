#include "jwt.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "crypto.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/expiry.hpp"
#include "util/files.hpp"
#include "util/secret_json.hpp"

namespace momento::server {

namespace fs = std::filesystem;
using nlohmann::json;
using momento::auth::detail::SecretJson;
using momento::auth::detail::WipedString;

namespace {

SigningKey fresh_key() {
  SigningKey k;
  k.kid = hex(random_bytes(8));
  k.secret = momento::auth::Secret(random_bytes(32));
  k.created = momento::auth::now_epoch_seconds();
  return k;
}

// Writes `data` to `path` atomically with mode 0600.
void write_private_file(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string());
  ::fchmod(fd, 0600);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp.string());
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot replace " + path.string());
  }
  int dfd = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

KeyRing::KeyRing(KeyRing&& o) noexcept
    : file_(std::move(o.file_)), keys_(std::move(o.keys_)), mtime_(o.mtime_) {}

KeyRing KeyRing::open(const fs::path& file) {
  KeyRing ring(file);
  std::unique_lock lock(ring.mu_);
  if (!fs::exists(file)) {
    ring.keys_.push_back(fresh_key());
    ring.save_locked();
  }
  ring.load_locked();
  return ring;
}

void KeyRing::load_locked() {
  // The file holds every signing key: read and parsed into buffers that are wiped when freed.
  std::string text;
  try {
    text = momento::auth::detail::read_regular_file(file_.string(), 1 << 20, "signing key file");
  } catch (const momento::auth::Error& e) {
    throw std::runtime_error(std::string("cannot read signing keys: ") + e.what());
  }
  SecretJson j = momento::auth::detail::parse_secret_json(text);
  momento::auth::wipe(text);
  if (j.is_discarded() || !j.contains("keys") || !j["keys"].is_array() || j["keys"].empty())
    throw std::runtime_error("signing key file is malformed: " + file_.string());
  std::vector<SigningKey> keys;
  for (auto& e : j["keys"]) {
    auto kid = e.find("kid"), b64 = e.find("secret");
    if (kid == e.end() || !kid->is_string() || b64 == e.end() || !b64->is_string())
      throw std::runtime_error("signing key file is malformed: " + file_.string());
    SigningKey k;
    k.kid = std::string(std::string_view(kid->get_ref<const WipedString&>()));
    auto secret = base64url_decode_canonical(b64->get_ref<const WipedString&>());
    if (!secret || secret->size() < 32) {
      if (secret) momento::auth::wipe(*secret);
      throw std::runtime_error("signing key file has a bad key: " + file_.string());
    }
    k.secret = momento::auth::Secret(std::move(*secret));
    auto created = e.find("created");
    k.created = created != e.end() && created->is_number_integer() ? created->get<int64_t>() : 0;
    keys.push_back(std::move(k));
  }
  keys_ = std::move(keys);
  std::error_code ec;
  mtime_ = fs::last_write_time(file_, ec);
}

void KeyRing::save_locked() const {
  SecretJson j;
  j["keys"] = SecretJson::array();
  for (const auto& k : keys_) {
    std::string b64 = base64url_encode(k.secret.reveal());
    j["keys"].push_back({{"kid", k.kid}, {"secret", b64}, {"created", k.created}});
    momento::auth::wipe(b64);
  }
  const WipedString text = j.dump(1);
  write_private_file(file_, text);
}

void KeyRing::refresh_if_changed() {
  std::error_code ec;
  auto t = fs::last_write_time(file_, ec);
  if (ec) return;
  {
    std::shared_lock lock(mu_);
    if (t == mtime_) return;
  }
  std::unique_lock lock(mu_);
  try {
    load_locked();
  } catch (const std::exception&) {
    // Keep the keys we have; a half-written file is never observed thanks to rename,
    // but a damaged one must not take the server down.
  }
}

std::string KeyRing::rotate() {
  std::unique_lock lock(mu_);
  load_locked();
  keys_.push_back(fresh_key());
  save_locked();
  std::error_code ec;
  mtime_ = fs::last_write_time(file_, ec);
  return keys_.back().kid;
}

std::string KeyRing::current_kid() {
  refresh_if_changed();
  std::shared_lock lock(mu_);
  return keys_.back().kid;
}

size_t KeyRing::size() {
  refresh_if_changed();
  std::shared_lock lock(mu_);
  return keys_.size();
}

std::string KeyRing::sign(std::string_view input, std::string* kid_out) {
  refresh_if_changed();
  std::shared_lock lock(mu_);
  const auto& k = keys_.back();
  if (kid_out) *kid_out = k.kid;
  return hmac_sha256(k.secret.reveal(), input);
}

bool KeyRing::verify(std::string_view kid, std::string_view input, std::string_view mac) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::shared_lock lock(mu_);
      for (const auto& k : keys_) {
        if (k.kid != kid) continue;
        std::string expected = hmac_sha256(k.secret.reveal(), input);
        bool ok = momento::auth::constant_time_equal(expected, mac);
        momento::auth::wipe(expected);
        return ok;
      }
    }
    // Unknown kid: perhaps another process rotated the ring; look once more.
    refresh_if_changed();
  }
  return false;
}

std::string sign_jwt(KeyRing& ring, const Claims& c, std::string* kid_out) {
  // nlohmann::json objects keep their keys sorted: {"exp","iat","jti","ver"}, {"alg","kid","typ"}.
  json payload = {{"jti", c.jti}, {"iat", c.iat}, {"ver", 1}};
  if (c.exp != 0) payload["exp"] = c.exp;
  const std::string payload_b64 = base64url_encode(payload.dump());
  // The header names the key, so sign with a kid fixed before building it.
  std::string kid = ring.current_kid();
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string header_json = json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", kid}}.dump();
    std::string input = base64url_encode(header_json) + "." + payload_b64;
    std::string used;
    std::string mac = ring.sign(input, &used);
    if (used == kid) {
      if (kid_out) *kid_out = kid;
      return input + "." + base64url_encode(mac);
    }
    kid = used;  // the ring rotated in between; rebuild the header
  }
  throw std::runtime_error("signing key changed repeatedly while signing");
}

const char* jwt_check_name(JwtCheck c) noexcept {
  switch (c) {
    case JwtCheck::Ok: return "ok";
    case JwtCheck::Malformed: return "malformed";
    case JwtCheck::BadAlgorithm: return "algorithm not allowed";
    case JwtCheck::UnknownKey: return "unknown signing key";
    case JwtCheck::BadSignature: return "bad signature";
    case JwtCheck::Expired: return "expired";
  }
  return "?";
}

JwtCheck verify_jwt(KeyRing& ring, std::string_view token, int64_t now, Claims* out) {
  if (token.size() > 4096) return JwtCheck::Malformed;
  size_t d1 = token.find('.');
  if (d1 == std::string_view::npos) return JwtCheck::Malformed;
  size_t d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return JwtCheck::Malformed;
  auto header_raw = base64url_decode_canonical(token.substr(0, d1));
  auto payload_raw = base64url_decode_canonical(token.substr(d1 + 1, d2 - d1 - 1));
  auto mac = base64url_decode_canonical(token.substr(d2 + 1));
  if (!header_raw || !payload_raw || !mac) return JwtCheck::Malformed;
  // Claims are not secret, but a token sent by a client may be anything: read as a secret is.
  const SecretJson header = momento::auth::detail::parse_secret_json(*header_raw);
  const SecretJson payload = momento::auth::detail::parse_secret_json(*payload_raw);
  momento::auth::wipe(*header_raw);
  momento::auth::wipe(*payload_raw);
  if (!header.is_object() || !payload.is_object()) return JwtCheck::Malformed;
  // Allow-list: the algorithm is fixed server-side; "none" and everything else are refused.
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "HS256") return JwtCheck::BadAlgorithm;
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return JwtCheck::UnknownKey;
  if (!ring.verify(std::string(kid->get_ref<const SecretJson::string_t&>()), token.substr(0, d2), *mac))
    return JwtCheck::BadSignature;
  Claims c;
  auto jti = payload.find("jti");
  auto iat = payload.find("iat");
  if (jti == payload.end() || !jti->is_string() || iat == payload.end() ||
      !iat->is_number_integer())
    return JwtCheck::Malformed;
  c.jti = std::string(jti->get_ref<const SecretJson::string_t&>());
  c.iat = iat->get<int64_t>();
  auto exp = payload.find("exp");
  if (exp != payload.end()) {
    if (!exp->is_number_integer()) return JwtCheck::Malformed;
    c.exp = exp->get<int64_t>();
    if (c.exp <= 0) return JwtCheck::Malformed;
    if (now >= c.exp) return JwtCheck::Expired;
  }
  if (out) *out = std::move(c);
  return JwtCheck::Ok;
}

}  // namespace momento::server
