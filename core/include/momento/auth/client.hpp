// AuthClient: GenerateApiToken, RefreshApiToken, GenerateDisposableToken over gRPC (docs/wire.md §8).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "momento/auth/credential.hpp"
#include "momento/auth/expiry.hpp"
#include "momento/auth/scope.hpp"

namespace momento::auth {

// The rules of a client configuration (ClientConfig below, DataClientConfig), one member at a
// time, for callers that set members one by one (the C setters); the clients' constructors check
// them all. Each throws InvalidArgument naming `name`.
//  - A call deadline is positive and at most a day: beyond that it is surely a unit mistake, and
//    deadline arithmetic could overflow.
//  - A message size limit is positive.
//  - A CA file ("" = none) can be read; its PEM certificates are read when a client is made.
void check_deadline(std::chrono::milliseconds deadline, std::string_view name);
void check_max_message_bytes(int64_t bytes, std::string_view name);
void check_ca_file(const std::string& path);

struct ClientConfig {
  std::chrono::milliseconds deadline{15000};  // per call
  std::string ca_file;                        // PEM roots for TLS; empty = system roots
  int max_message_bytes = 4 * 1024 * 1024;
};

// Thread-safe; meant to be shared. One channel per distinct endpoint, created lazily.
class AuthClient {
 public:
  explicit AuthClient(Credential credential, ClientConfig config = {});
  ~AuthClient();
  AuthClient(AuthClient&&) noexcept;
  AuthClient& operator=(AuthClient&&) noexcept;

  const Credential& credential() const noexcept;

  Token generate_api_key(const PermissionScope& scope, const ExpiresIn& expires_in);
  // Refreshes the client's own credential (must be a v1 envelope). Never retried.
  Token refresh_api_key(std::string_view refresh_token);
  Token generate_disposable_token(const PermissionScope& scope, const ExpiresIn& expires_in,
                                        std::string_view token_id = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::auth
