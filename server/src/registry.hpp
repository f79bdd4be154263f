// The credential registry: authentication, minting, refresh-token rotation, bootstrap.
// Independent of gRPC transport details so it can be tested directly.
#pragma once

#include <grpcpp/support/status.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

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
  std::function<int64_t()> clock;         // epoch seconds; defaults to the system clock
};

struct Minted {
  std::string api_key;        // raw key (not an envelope)
  std::string refresh_token;  // empty when not refreshable
  std::string endpoint;
  uint64_t valid_until = 0;
  std::string key_id;         // public id, for logs
};

// An authenticated caller.
struct Principal {
  KeyRecord key;
  permission_messages::Permissions permissions;
  bool anonymous = false;
  Caller caller() const { return Caller{key.cls, &permissions, anonymous}; }
};

class Registry {
 public:
  Registry(const std::filesystem::path& data_dir, RegistryOptions opts);

  int64_t now() const { return opts_.clock ? opts_.clock() : default_now(); }
  const RegistryOptions& options() const { return opts_; }
  Store& store() { return store_; }
  KeyRing& ring() { return ring_; }

  // Body credential of Auth/Token RPCs: empty, unknown, revoked or expired -> UNAUTHENTICATED.
  Principal authenticate(std::string_view raw_key);
  // `authorization` header of data/control RPCs (honours --anonymous for an empty value).
  Principal authenticate_header(std::string_view raw_key);

  Minted generate_api_key(const ::auth::_GenerateApiTokenRequest& req);
  Minted refresh_api_key(std::string_view api_key, std::string_view refresh_token);
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
  Minted mint_locked(KeyClass cls, const std::string& perms_bytes, int64_t lifetime,
                     const std::string& endpoint, const std::string& token_id,
                     const std::string& description, const std::string& family_id,
                     bool bootstrap, int64_t now);

  RegistryOptions opts_;
  KeyRing ring_;
  Store store_;
};

}  // namespace momento::server
