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

struct ClientConfig {
  std::chrono::milliseconds deadline{15000};  // per call
  std::string ca_file;                        // PEM roots for TLS; empty = system roots
  int max_message_bytes = 4 * 1024 * 1024;
};

// A minted or refreshed key, or a disposable token.
struct TokenResult {
  Secret api_key;        // v1 envelope (endpoint + raw key)
  Secret refresh_token;  // empty for never-expiring keys and disposable tokens
  std::string endpoint;  // base endpoint reported by the service
  ExpiresAt expires_at = ExpiresAt::never();

  TokenFile to_token_file() const { return {api_key, refresh_token, expires_at}; }
};

// Thread-safe; meant to be shared. One channel per distinct endpoint, created lazily.
class AuthClient {
 public:
  explicit AuthClient(Credential credential, ClientConfig config = {});
  ~AuthClient();
  AuthClient(AuthClient&&) noexcept;
  AuthClient& operator=(AuthClient&&) noexcept;

  const Credential& credential() const noexcept;

  TokenResult generate_api_key(const PermissionScope& scope, const ExpiresIn& expires_in);
  // Refreshes the client's own credential (must be a v1 envelope). Never retried.
  TokenResult refresh_api_key(std::string_view refresh_token);
  TokenResult generate_disposable_token(const PermissionScope& scope, const ExpiresIn& expires_in,
                                        std::string_view token_id = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::auth
