// The credential registry: authentication, minting, refresh-token rotation, bootstrap.
// Independent of gRPC transport details so it can be tested directly.
#pragma once

#include <grpcpp/support/status.h>

#include <filesystem>
#include <functional>
#include <atomic>
#include <memory>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "authz.hpp"
#include "jwt.hpp"
#include "permissionmessages.pb.h"
#include "store.hpp"

namespace auth { class _GenerateApiTokenRequest; }
namespace token { class _GenerateDisposableTokenRequest; }

namespace momento::server {

// A failure with the gRPC status the caller should see. Messages never contain secrets.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(grpc::StatusCode code, std::string msg)
      : std::runtime_error(std::move(msg)), code_(code) {}
  grpc::StatusCode code() const noexcept { return code_; }
  grpc::Status status() const { return grpc::Status(code_, what()); }

 private:
  grpc::StatusCode code_;
};

inline constexpr const char* kInsufficient = "Insufficient permissions";

struct RegistryOptions {
  std::string endpoint = "localhost";     // advertised base endpoint
  int64_t grace_seconds = 30;             // refresh-token replay window
  uint32_t max_disposable_seconds = 90000;
  bool anonymous = false;                 // empty `authorization` = super-user caller
  bool synchronous_full = false;          // SQLite synchronous=FULL
  bool allow_readable_keys = false;       // accept a signing-keys file readable by group/others
  std::function<int64_t()> clock;         // epoch seconds; defaults to the system clock
};

struct Minted {
  std::string api_key;        // raw key (not an envelope)
  std::string refresh_token;  // empty when not refreshable
  std::string endpoint;
  uint64_t valid_until = 0;
  std::string key_id;         // public id, for logs
};

// An authenticated caller. Shared and immutable: the registry caches it.
struct Principal {
  KeyRecord key;
  permission_messages::Permissions permissions;
  bool anonymous = false;
  std::string key_id;  // key.key_id(), computed once
  Caller caller() const { return Caller{key.cls, &permissions, anonymous}; }
};
using PrincipalRef = std::shared_ptr<const Principal>;

class Registry {
 public:
  Registry(const std::filesystem::path& data_dir, RegistryOptions opts);

  int64_t now() const { return opts_.clock ? opts_.clock() : default_now(); }
  const RegistryOptions& options() const { return opts_; }
  Store& store() { return store_; }
  KeyRing& ring() { return ring_; }
  // Surprises found in the data directory at start (a file of an existing directory missing),
  // for the caller to print; each names what happened and what it means.
  const std::vector<std::string>& startup_warnings() const { return warnings_; }

  // Body credential of Auth/Token RPCs: empty, unknown, revoked or expired -> UNAUTHENTICATED.
  // Results are cached by SHA-256 of the key until the store's generation changes (any
  // revocation); expiry is checked on every call.
  PrincipalRef authenticate(std::string_view raw_key);
  // `authorization` header of data/control RPCs (honours --anonymous for an empty value).
  PrincipalRef authenticate_header(std::string_view raw_key);

  Minted generate_api_key(const ::auth::_GenerateApiTokenRequest& req);
  // `caller_gone`, when given, is asked inside the transaction just before anything changes: a
  // refresh whose caller already gave up (cancelled, or past its deadline) is refused with
  // CANCELLED. Run late, after the caller's retry and a newer rotation, it would look like reuse
  // and revoke the family.
  Minted refresh_api_key(std::string_view api_key, std::string_view refresh_token,
                         const std::function<bool()>& caller_gone = {});
  Minted generate_disposable_token(const ::token::_GenerateDisposableTokenRequest& req);

  // Mints a key directly (bootstrap, admin, seeding). lifetime 0 = never expires.
  Minted mint(KeyClass cls, const permission_messages::Permissions& perms, uint32_t lifetime,
              std::string_view token_id = {}, std::string_view description = {},
              bool bootstrap = false);

  // Makes sure a SuperUser key exists for `file` and that the file holds it (Download-JSON
  // shape, 0600). If the file already holds a live super-user key of this registry it is
  // kept as is; otherwise a new never-expiring key is minted and the file (re)written.
  // Returns the public key id.
  std::string ensure_bootstrap(const std::filesystem::path& file);

 private:
  static int64_t default_now();
  // A new key (and refresh token) with every secret and signature computed, before any
  // database work, so that the store's writer only inserts rows.
  struct PreparedMint {
    Minted minted;
    KeyRecord key;
    std::optional<FamilyRecord> new_family;
    std::optional<RefreshRecord> refresh;
  };
  PreparedMint prepare_mint(KeyClass cls, const std::string& perms_bytes, int64_t lifetime,
                            const std::string& endpoint, const std::string& token_id,
                            const std::string& description, const std::string& family_id,
                            bool bootstrap, int64_t now);
  void insert_mint(PreparedMint& p);  // inside a transaction; sets p.key.refresh_id
  // `gen` is the store's generation read before the commit (see remember()).
  Minted mint_now(KeyClass cls, const std::string& perms_bytes, int64_t lifetime,
                  const std::string& token_id, const std::string& description, bool bootstrap,
                  const Store::Generation& gen);
  // Also gives the generation read before the key row.
  PrincipalRef authenticate(std::string_view raw_key, Store::Generation* gen);

  struct CachedPrincipal {
    PrincipalRef principal;
    Store::Generation generation;
  };
  using PrincipalMap = std::unordered_map<std::string, CachedPrincipal>;  // by SHA-256 of the key
  static constexpr size_t kPrincipalCacheMax = 20000;
  void cache_put(std::string key_hash, PrincipalRef p, const Store::Generation& gen);
  // Caches a key this registry has just committed, so that its first use (typically the next
  // refresh of a chain) needs no database read. `gen` was read before the commit.
  void remember(const PreparedMint& p, const Store::Generation& gen);

  RegistryOptions opts_;
  std::vector<std::string> warnings_;  // before ring_: filled while the directory is checked
  KeyRing ring_;
  Store store_;
  // Two halves: new entries go to cache_; when it is full it becomes old_cache_ and the
  // previous old half is dropped, so the size stays bounded without a full clear.
  std::shared_mutex cache_mu_;
  PrincipalMap cache_, old_cache_;
  std::atomic<int64_t> last_forget_{0};  // second of the last forget_sealed_before
};

}  // namespace momento::server
