// Helpers shared by the store and refresh sources (not part of the public headers).
#pragma once

#include <string>
#include <string_view>

#include "../util/crypto.hpp"

namespace momento::auth::detail {


// Holds an OFD write lock on a file for its lifetime.
class OfdLock {
 public:
  explicit OfdLock(const std::string& path);  // blocks until locked
  ~OfdLock();
  OfdLock(const OfdLock&) = delete;
  OfdLock& operator=(const OfdLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace momento::auth::detail

#include "momento/auth/store.hpp"
#include <optional>

namespace momento::auth::detail {

// A store's lock() when it is an OFD lock on a local file.
class OfdStoreLock final : public StoreLock {
 public:
  explicit OfdStoreLock(const std::string& path) : lock_(path) {}

 private:
  OfdLock lock_;
};

// Journal file {"keyFingerprint","startedAtMs"}; a missing or unreadable file = no entry.
std::optional<PendingRefresh> read_journal_file(const std::string& path);
void write_journal_file(const std::string& path, const PendingRefresh& p);
void remove_file_if_exists(const std::string& path);

}  // namespace momento::auth::detail

namespace momento::auth::aws {

// The GetSecretValue answer: its SecretString read as a token file, VersionId and CreatedDate.
// `shape`, when given, receives the SecretString's shape, for writing the next key back in it.
StoreSnapshot parse_secret_value(std::string_view answer, const std::string& secret_id,
                                 TokenJson* shape = nullptr);

}  // namespace momento::auth::aws
