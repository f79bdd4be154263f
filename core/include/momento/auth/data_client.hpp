// A small client for the control and data calls of docs/wire.md §1.1 (ScsControl, Scs, Ping).
// Meant for tests, demos and key validation, not as a full cache SDK.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "momento/auth/credential.hpp"

namespace momento::auth {

struct DataClientConfig {
  std::chrono::milliseconds control_deadline{60000};  // ScsControl calls (docs/wire.md §10.3)
  std::chrono::milliseconds data_deadline{5000};      // Scs Get/Set/Delete and Ping
  // Get/Set/Delete attempts in total when the status is INTERNAL or UNAVAILABLE (§10.2);
  // every attempt shares the call's deadline. 1 disables retries.
  int max_attempts = 3;
  std::string ca_file;  // PEM roots for TLS; empty = system roots
  int max_message_bytes = 4 * 1024 * 1024;
};

// Thread-safe; meant to be shared. Channels per distinct endpoint, created lazily.
// Every call sends `authorization` = the credential's raw key; data calls add the `cache` header.
// Failures throw Error with the canonical code of docs/wire.md §10.1.
class DataClient {
 public:
  explicit DataClient(Credential credential, DataClientConfig config = {});
  ~DataClient();
  DataClient(DataClient&&) noexcept;
  DataClient& operator=(DataClient&&) noexcept;

  const Credential& credential() const noexcept;

  // Control plane (control host), never retried.
  void create_cache(std::string_view cache_name);
  void delete_cache(std::string_view cache_name);
  void flush_cache(std::string_view cache_name);
  std::vector<std::string> list_caches();

  // Data plane (cache host). Keys and values are arbitrary bytes.
  void set(std::string_view cache_name, std::string_view key, std::string_view value,
           std::chrono::milliseconds ttl = std::chrono::minutes(1));
  // The value on a hit, nullopt on a miss.
  std::optional<std::string> get(std::string_view cache_name, std::string_view key);
  void delete_key(std::string_view cache_name, std::string_view key);

  // Unauthenticated liveness check (cache host); not retried.
  void ping();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::auth
