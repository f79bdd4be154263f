// Key fingerprints, small-file reads, OFD locks and the refresh journal (file or memory).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "../util/files.hpp"
#include "internal.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth {

std::string token_fingerprint(std::string_view auth_token) {
  if (auth_token.empty()) return {};
  return detail::hex(detail::sha256(auth_token));
}

namespace detail {

OfdLock::OfdLock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw Error(ErrorCode::Unknown, "cannot open lock file " + path + ": " + std::strerror(errno));
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // whole file
  // OFD locks belong to the open file description: they exclude other descriptors in this
  // process as well as other processes, and the kernel drops them when the holder dies.
  while (::fcntl(fd_, F_OFD_SETLKW, &fl) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorCode::Unknown, "cannot lock " + path + ": " + std::strerror(e));
  }
}

OfdLock::~OfdLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the OFD lock
}

std::optional<PendingRefresh> read_journal_file(const std::string& path) {
  std::string text;
  try {
    text = read_regular_file(path, 4096, "refresh journal");
  } catch (const Error& e) {
    if (e.code() == ErrorCode::NotFound) return std::nullopt;
    throw;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("keyFingerprint") ||
      !j["keyFingerprint"].is_string() || !j.contains("startedAtMs") ||
      !j["startedAtMs"].is_number_integer())
    return std::nullopt;  // a torn or foreign journal is no evidence of anything in flight
  return PendingRefresh{j["keyFingerprint"].get<std::string>(), j["startedAtMs"].get<int64_t>()};
}

void write_journal_file(const std::string& path, const PendingRefresh& p) {
  nlohmann::json j{{"keyFingerprint", p.key_fingerprint}, {"startedAtMs", p.started_at_ms}};
  atomic_write_file(path, j.dump(), 0600);
}

void remove_file_if_exists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw Error(ErrorCode::Unknown, "cannot remove " + path + ": " + std::strerror(errno));
}

}  // namespace detail

std::optional<PendingRefresh> TokenStore::load_pending() {
  const std::string path = journal_path();
  if (!path.empty()) return detail::read_journal_file(path);
  std::lock_guard<std::mutex> g(journal_mutex_);
  return journal_;
}

void TokenStore::store_pending(const PendingRefresh& pending) {
  const std::string path = journal_path();
  if (!path.empty()) return detail::write_journal_file(path, pending);
  std::lock_guard<std::mutex> g(journal_mutex_);
  journal_ = pending;
}

void TokenStore::clear_pending() {
  const std::string path = journal_path();
  if (!path.empty()) return detail::remove_file_if_exists(path);
  std::lock_guard<std::mutex> g(journal_mutex_);
  journal_.reset();
}

}  // namespace momento::auth
