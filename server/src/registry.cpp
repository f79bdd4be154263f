#include "registry.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "auth.pb.h"
#include "crypto.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/secret.hpp"
#include "token.pb.h"
#include "util/secret_json.hpp"

namespace momento::server {

namespace fs = std::filesystem;
using grpc::StatusCode;

namespace {

constexpr size_t kMaxCredentialBytes = 8192;
constexpr size_t kRandomBytes = 16;          // 128 bits in every jti
constexpr size_t kRefreshTokenBytes = 32;    // 256 bits in every refresh token

[[noreturn]] void unauthenticated(const char* msg = "Invalid authentication token") {
  throw ServiceError(StatusCode::UNAUTHENTICATED, msg);
}
[[noreturn]] void invalid(const std::string& msg) {
  throw ServiceError(StatusCode::INVALID_ARGUMENT, msg);
}
[[noreturn]] void denied() { throw ServiceError(StatusCode::PERMISSION_DENIED, kInsufficient); }

void check_token_id(const std::string& token_id) {
  auto n = momento::auth::detail::utf8_code_points(token_id);
  if (!n) invalid("token_id must be valid UTF-8");
  if (*n > momento::auth::kMaxTokenIdCodePoints) invalid("token_id must be at most 64 characters");
  // Shown by `admin list-keys`: no escape sequences or line breaks on an operator's terminal.
  if (momento::auth::detail::has_control_characters(token_id))
    invalid("token_id must not contain control characters");
}

bool refreshable(KeyClass c, int64_t lifetime) {
  return lifetime > 0 && (c == KeyClass::SuperUser || c == KeyClass::Explicit);
}

}  // namespace

int64_t Registry::default_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Creates a missing data directory (0700). In an existing one, a missing state.db or signing-keys
// file means every key issued before stops working: say so. Signing keys readable by group or
// others are refused unless the operator allows them.
static fs::path prepare_dir(const fs::path& dir, const RegistryOptions& opts,
                            std::vector<std::string>& warnings) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    fs::permissions(dir, fs::perms::owner_all, ec);  // secrets live here
  }
  if (!fs::is_directory(dir)) throw std::runtime_error("data directory cannot be created: " + dir.string());
  const fs::path keys = dir / "signing-keys.json", db = dir / "state.db";
  const bool have_keys = fs::exists(keys, ec), have_db = fs::exists(db, ec);
  if (have_db && !have_keys)
    warnings.push_back("signing-keys.json is missing from " + dir.string() +
                       ", which holds a state.db: a new signing key is made and no key issued "
                       "before will verify");
  if (have_keys && !have_db)
    warnings.push_back("state.db is missing from " + dir.string() +
                       ", which holds signing keys: starting with no keys, refresh tokens or "
                       "caches; every key issued before is unknown");
  if (have_keys) check_private_key_file(keys.string(), opts.allow_readable_keys);
  return dir;
}

Registry::Registry(const fs::path& data_dir, RegistryOptions opts)
    : opts_(std::move(opts)),
      ring_(KeyRing::open(prepare_dir(data_dir, opts_, warnings_) / "signing-keys.json")),
      store_(data_dir / "state.db", StoreOptions{opts_.synchronous_full}) {
  if (opts_.endpoint.empty()) throw std::invalid_argument("advertised endpoint must not be empty");
}

PrincipalRef Registry::authenticate(std::string_view raw) {
  Store::Generation gen;
  return authenticate(raw, &gen);
}

PrincipalRef Registry::authenticate(std::string_view raw, Store::Generation* gen_out) {
  if (raw.empty() || raw.size() > kMaxCredentialBytes) unauthenticated();
  std::string hash = sha256(raw);
  // Read before the key row: a revocation committed after this point changes it, so an entry
  // made from an older row is never used again.
  const Store::Generation gen = store_.generation();
  *gen_out = gen;
  const int64_t t = now();
  {
    std::shared_lock lock(cache_mu_);
    const CachedPrincipal* hit = nullptr;
    if (auto it = cache_.find(hash); it != cache_.end()) hit = &it->second;
    else if (auto old = old_cache_.find(hash); old != old_cache_.end()) hit = &old->second;
    if (hit && hit->generation == gen) {
      PrincipalRef p = hit->principal;
      lock.unlock();
      // The signature and the exp claim (equal to valid_until) were checked when the entry was
      // made from these same bytes; only time moves on.
      if (p->key.valid_until != 0 && t >= p->key.valid_until) unauthenticated("Token has expired");
      return p;
    }
  }
  auto rec = store_.find_key(hash);
  if (!rec) unauthenticated();
  if (rec->revoked) unauthenticated("Token has been revoked");
  if (!rec->kid.empty()) {
    Claims claims;
    JwtCheck c = verify_jwt(ring_, raw, t, &claims);
    if (c == JwtCheck::Expired) unauthenticated("Token has expired");
    if (c != JwtCheck::Ok) unauthenticated();
    // An expiring key must carry the matching exp claim.
    if (claims.exp != rec->valid_until) unauthenticated();
  }
  if (rec->valid_until != 0 && t >= rec->valid_until) unauthenticated("Token has expired");
  auto p = std::make_shared<Principal>();
  p->key = std::move(*rec);
  p->key_id = p->key.key_id();
  if (!p->key.permissions.empty() && !p->permissions.ParseFromString(p->key.permissions))
    throw ServiceError(StatusCode::INTERNAL, "stored permissions are damaged");
  cache_put(std::move(hash), p, gen);
  return p;
}

void Registry::cache_put(std::string key_hash, PrincipalRef p, const Store::Generation& gen) {
  PrincipalMap dropped;  // freed after the lock is released
  std::unique_lock lock(cache_mu_);
  if (cache_.size() >= kPrincipalCacheMax / 2) {
    dropped.swap(old_cache_);
    old_cache_.swap(cache_);
  }
  cache_.insert_or_assign(std::move(key_hash), CachedPrincipal{std::move(p), gen});
}

void Registry::remember(const PreparedMint& m, const Store::Generation& gen) {
  auto p = std::make_shared<Principal>();
  p->key = m.key;
  p->key_id = m.minted.key_id;
  if (!p->key.permissions.empty() && !p->permissions.ParseFromString(p->key.permissions)) return;
  cache_put(m.key.key_hash, std::move(p), gen);
}

PrincipalRef Registry::authenticate_header(std::string_view raw) {
  if (raw.empty() && opts_.anonymous) {
    static const PrincipalRef anonymous = [] {
      auto p = std::make_shared<Principal>();
      p->anonymous = true;
      p->key.cls = KeyClass::SuperUser;
      p->key_id = "anonymous";
      p->permissions.set_super_user(permission_messages::SuperUser);
      return p;
    }();
    return anonymous;
  }
  return authenticate(raw);
}

Registry::PreparedMint Registry::prepare_mint(KeyClass cls, const std::string& perms_bytes,
                                              int64_t lifetime, const std::string& endpoint,
                                              const std::string& token_id,
                                              const std::string& description,
                                              const std::string& family_id, bool bootstrap,
                                              int64_t t) {
  PreparedMint p;
  Claims claims;
  claims.jti = random_token(kRandomBytes);
  claims.iat = t;
  claims.exp = lifetime > 0 ? t + lifetime : 0;
  std::string kid;
  std::string raw = sign_jwt(ring_, claims, &kid);

  KeyRecord& k = p.key;
  k.key_hash = sha256(raw);
  k.cls = cls;
  k.permissions = perms_bytes;
  k.created_at = t;
  k.valid_until = claims.exp;
  k.lifetime = lifetime;
  k.endpoint = endpoint;
  k.token_id = token_id;
  k.description = description;
  k.kid = std::move(kid);
  k.bootstrap = bootstrap;

  Minted& m = p.minted;
  m.endpoint = endpoint;
  m.valid_until = static_cast<uint64_t>(claims.exp);
  m.key_id = k.key_id();
  if (refreshable(cls, lifetime)) {
    k.family_id = family_id;
    if (k.family_id.empty()) {
      k.family_id = hex(random_bytes(12));
      p.new_family = FamilyRecord{k.family_id, t, false, ""};
    }
    m.refresh_token = random_token(kRefreshTokenBytes);
    k.refresh_hash = sha256(m.refresh_token);
    p.refresh = RefreshRecord{0, k.refresh_hash, k.family_id, k.key_hash, t, 0, 0, ""};
  }
  m.api_key = std::move(raw);
  return p;
}

void Registry::insert_mint(PreparedMint& p) {
  if (p.new_family) store_.insert_family(*p.new_family);
  if (p.refresh) p.key.refresh_id = store_.insert_refresh(*p.refresh);
  store_.insert_key(p.key);
}

Minted Registry::mint_now(KeyClass cls, const std::string& perms_bytes, int64_t lifetime,
                          const std::string& token_id, const std::string& description,
                          bool bootstrap, const Store::Generation& gen) {
  PreparedMint p = prepare_mint(cls, perms_bytes, lifetime, opts_.endpoint, token_id,
                                description, "", bootstrap, now());
  store_.transaction([&] { insert_mint(p); });
  remember(p, gen);
  return std::move(p.minted);
}

Minted Registry::mint(KeyClass cls, const permission_messages::Permissions& perms,
                      uint32_t lifetime, std::string_view token_id, std::string_view description,
                      bool bootstrap) {
  std::string bytes;
  perms.SerializeToString(&bytes);
  return mint_now(cls, bytes, lifetime, std::string(token_id), std::string(description),
                  bootstrap, store_.generation());
}

Minted Registry::generate_api_key(const ::auth::_GenerateApiTokenRequest& req) {
  // Order: authenticate -> validate -> authorize (docs/wire.md §9.3).
  Store::Generation gen;  // read before anything this call commits
  PrincipalRef caller = authenticate(req.auth_token(), &gen);

  int64_t lifetime = 0;
  switch (req.expiry_case()) {
    case ::auth::_GenerateApiTokenRequest::kNever: break;
    case ::auth::_GenerateApiTokenRequest::kExpires:
      if (req.expires().valid_for_seconds() == 0) invalid("valid_for_seconds must be positive");
      lifetime = req.expires().valid_for_seconds();
      break;
    default: invalid("expiry must be set (never or expires)");
  }
  if (!req.has_permissions()) invalid("permissions must be set");
  if (auto err = validate_permissions(req.permissions(), ScopeUse::ApiKey)) invalid(*err);
  check_token_id(req.token_id());
  if (req.description().size() > 1024) invalid("description must be at most 1024 bytes");
  if (momento::auth::detail::has_control_characters(req.description()))
    invalid("description must not contain control characters");

  const bool su = req.permissions().has_super_user();
  if (!allowed(caller->caller(), su ? Operation::GenerateSuperUser : Operation::GenerateExplicit))
    denied();

  std::string bytes;
  req.permissions().SerializeToString(&bytes);
  return mint_now(su ? KeyClass::SuperUser : KeyClass::Explicit, bytes, lifetime, req.token_id(),
                  req.description(), false, gen);
}

Minted Registry::generate_disposable_token(const ::token::_GenerateDisposableTokenRequest& req) {
  Store::Generation gen;  // read before anything this call commits
  PrincipalRef caller = authenticate(req.auth_token(), &gen);

  if (!req.has_expires() || req.expires().valid_for_seconds() == 0)
    invalid("disposable tokens must expire: expires.valid_for_seconds must be positive");
  if (req.expires().valid_for_seconds() > opts_.max_disposable_seconds)
    invalid("valid_for_seconds exceeds the maximum of " +
            std::to_string(opts_.max_disposable_seconds) + " seconds for disposable tokens");
  if (!req.has_permissions()) invalid("permissions must be set");
  if (auto err = validate_permissions(req.permissions(), ScopeUse::DisposableToken)) invalid(*err);
  check_token_id(req.token_id());

  if (!allowed(caller->caller(), Operation::GenerateDisposable)) denied();

  std::string bytes;
  req.permissions().SerializeToString(&bytes);
  return mint_now(KeyClass::Disposable, bytes, req.expires().valid_for_seconds(), req.token_id(),
                  "", false, gen);
}

namespace {

// The answer a grace replay gets back, sealed under the refresh token: built and read in
// buffers that are wiped when freed (it holds a key and a refresh token).
using momento::auth::detail::SecretJson;
using momento::auth::detail::WipedString;

WipedString answer_json(const Minted& m) {
  return SecretJson{{"api_key", m.api_key},
                    {"refresh_token", m.refresh_token},
                    {"endpoint", m.endpoint},
                    {"valid_until", m.valid_until},
                    {"key_id", m.key_id}}
      .dump();
}

std::optional<Minted> answer_from_json(std::string_view s) {
  SecretJson j = momento::auth::detail::parse_secret_json(s);
  if (!j.is_object()) return std::nullopt;
  auto text = [&j](const char* name) -> std::optional<std::string> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return std::string(std::string_view(it->get_ref<const WipedString&>()));
  };
  Minted m;
  auto api_key = text("api_key"), refresh_token = text("refresh_token"), endpoint = text("endpoint");
  auto valid_until = j.find("valid_until");
  if (api_key && refresh_token && endpoint && valid_until != j.end() && valid_until->is_number_unsigned()) {
    m.api_key = std::move(*api_key);
    m.refresh_token = std::move(*refresh_token);
    m.endpoint = std::move(*endpoint);
    m.valid_until = valid_until->get<uint64_t>();
    m.key_id = text("key_id").value_or("");
    return m;
  }
  if (api_key) momento::auth::wipe(*api_key);
  if (refresh_token) momento::auth::wipe(*refresh_token);
  return std::nullopt;
}

}  // namespace

Minted Registry::refresh_api_key(std::string_view api_key, std::string_view refresh_token,
                                 const std::function<bool()>& caller_gone) {
  // Step 1: the key being refreshed must be live. This is the one read of its row.
  Store::Generation gen;  // read before anything this call commits
  PrincipalRef old = authenticate(api_key, &gen);
  // Step 2.
  if (refresh_token.empty()) invalid("refresh_token must not be empty");
  if (refresh_token.size() > kMaxCredentialBytes) unauthenticated("Invalid refresh token");
  const KeyRecord& key = old->key;
  // Never-expiring keys, disposable tokens and seeded keys hold no refresh token.
  if (key.family_id.empty()) unauthenticated("Invalid refresh token");

  const std::string rt_hash = sha256(refresh_token);
  const int64_t t = now();
  // Step 4 prepared up front (same class, permissions, endpoint and lifetime), with the answer
  // sealed under the presented token for grace replays: the writer then only inserts rows.
  // A replay or a reuse discards it.
  PreparedMint next = prepare_mint(key.cls, key.permissions, key.lifetime, key.endpoint,
                                   key.token_id, key.description, key.family_id, false, t);
  std::string sealed = seal(refresh_token, answer_json(next.minted));
  // Sealed answers outlive the grace window by at most a second.
  const bool forget = opts_.grace_seconds >= 0 && last_forget_.exchange(t) != t;

  Minted result;
  bool revoked_family = false;
  bool minted = false;
  // One transaction: refreshes with the same token are serialized by the store's writer, so
  // the second one sees the token consumed and takes the replay path.
  store_.transaction([&] {
    if (caller_gone && caller_gone())
      throw ServiceError(StatusCode::CANCELLED,
                         "the caller gave up on this refresh before it ran; nothing was changed");
    // Step 3: the token must be the one issued with this key.
    auto rt = key.refresh_id ? store_.find_refresh(key.refresh_id) : std::nullopt;
    if (!rt || !momento::auth::constant_time_equal(rt->token_hash, rt_hash) || rt->family_id != key.family_id)
      unauthenticated("Invalid refresh token");
    auto fam = store_.find_family(rt->family_id);
    if (!fam || fam->revoked) unauthenticated("Invalid refresh token");

    if (rt->consumed_at != 0) {
      // Already used. The immediate predecessor of the family's current token may be
      // replayed inside the grace window and gets the same answer; anything else is reuse.
      auto successor = rt->successor_id ? store_.find_refresh(rt->successor_id) : std::nullopt;
      bool in_window = t - rt->consumed_at < opts_.grace_seconds;
      if (in_window && successor && successor->consumed_at == 0 && !rt->sealed_answer.empty()) {
        if (auto plain = open_sealed(refresh_token, rt->sealed_answer)) {
          auto m = answer_from_json(*plain);
          momento::auth::wipe(*plain);
          if (m) {
            // The successor may have been revoked since (admin revoke-key): never hand out a
            // dead key as a successful refresh.
            auto succ = store_.find_key(sha256(m->api_key));
            if (!succ || succ->revoked) {
              momento::auth::wipe(m->api_key);
              momento::auth::wipe(m->refresh_token);
              unauthenticated("The key this refresh token was exchanged for has been revoked");
            }
            result = std::move(*m);
            return;
          }
        }
      }
      store_.revoke_family(rt->family_id, "refresh token reused");
      revoked_family = true;
      return;  // commit the revocation, then answer UNAUTHENTICATED
    }

    insert_mint(next);
    store_.consume_refresh(rt->id, t, next.key.refresh_id, sealed);
    // The old key keeps working until its own expiry but holds no refresh token any more
    // (its token is consumed; list_keys derives that from refresh_tokens).
    if (forget) store_.forget_sealed_before(t - opts_.grace_seconds);
    result = next.minted;
    minted = true;
  });
  if (minted) remember(next, gen);
  momento::auth::wipe(next.minted.api_key);
  momento::auth::wipe(next.minted.refresh_token);
  if (revoked_family) unauthenticated("Refresh token was reused; its family has been revoked");
  return result;
}

std::string Registry::ensure_bootstrap(const fs::path& file) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      auto tf = momento::auth::read_token_file(file.string());
      auto cred = momento::auth::Credential::from_string(tf.api_key.reveal());
      PrincipalRef p = authenticate(cred.raw_key());
      if (p->key.cls == KeyClass::SuperUser && p->key.valid_until == 0) {
        ::chmod(file.c_str(), 0600);
        return p->key_id;
      }
    } catch (const std::exception&) {
      // Not a live key of this registry: replace the file below.
    }
  }
  permission_messages::Permissions su;
  su.set_super_user(permission_messages::SuperUser);
  Minted m = mint(KeyClass::SuperUser, su, 0, "", "bootstrap", true);
  momento::auth::Token tf;
  tf.api_key = momento::auth::Secret(momento::auth::encode_envelope(m.endpoint, m.api_key));
  tf.refresh_token = momento::auth::Secret(std::string());
  tf.valid_until = momento::auth::ExpiresAt::never();
  momento::auth::write_token_file(file.string(), tf);
  ::chmod(file.c_str(), 0600);
  momento::auth::wipe(m.api_key);
  return m.key_id;
}

}  // namespace momento::server
