// Helpers shared by the store and refresh sources (not part of the public headers).
#pragma once

#include <string>
#include <string_view>

#include "../util/crypto.hpp"

namespace momento::auth::detail {

// Reads a whole file; throws Error(NotFound) if absent, Error(Unknown) on other failures.
// Rejects files larger than `limit`.
std::string read_small_file(const std::string& path, size_t limit = 64 * 1024);

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

// Journal file {"keyFingerprint","startedAtMs"}; a missing or unreadable file = no entry.
std::optional<PendingRefresh> read_journal_file(const std::string& path);
void write_journal_file(const std::string& path, const PendingRefresh& p);
void remove_file_if_exists(const std::string& path);

}  // namespace momento::auth::detail
