// AuthClient: GenerateApiToken, RefreshApiToken, GenerateDisposableToken over gRPC (docs/wire.md §8).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "momento/auth/cancel.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"
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

// How an asynchronous call ends: with a token, or with the error it failed with (exactly one of
// the two is non-null, and lives for the duration of the call).
using TokenCompletion = std::function<void(Token* token, const Error* error)>;

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

  // Asynchronous forms of the three calls. The argument checks of the blocking form throw here
  // (`done` is then never called); otherwise the RPC is started and `done` runs exactly once, on
  // the process's completion thread (possibly before this call has returned); the outcomes and
  // errors are those of the blocking
  // form. `cancel` (nullptr: the calling thread's token, if any) cancels the call like a
  // blocking one. The client may be destroyed while calls are in flight: they keep the
  // connection they use, run to their end and still complete.
  void generate_api_key_async(const PermissionScope& scope, const ExpiresIn& expires_in,
                              CancelToken* cancel, TokenCompletion done);
  void refresh_api_key_async(std::string_view refresh_token, CancelToken* cancel,
                             TokenCompletion done);
  void generate_disposable_token_async(const PermissionScope& scope, const ExpiresIn& expires_in,
                                       std::string_view token_id, CancelToken* cancel,
                                       TokenCompletion done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the asynchronous calls in flight
};

}  // namespace momento::auth
