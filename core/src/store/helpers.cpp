// Key fingerprints, small-file reads, OFD locks and the journal file format.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "internal.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth {

std::string token_fingerprint(std::string_view auth_token) {
  if (auth_token.empty()) return {};
  return detail::hex(detail::sha256(auth_token));
}

namespace detail {

std::string read_small_file(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) throw Error(ErrorCode::NotFound, "file not found: " + path);
    throw Error(ErrorCode::Unknown, "cannot open " + path + ": " + std::strerror(e));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw Error(ErrorCode::Unknown, "cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      throw Error(ErrorCode::InvalidArgument, "file too large: " + path);
    }
  }
  ::close(fd);
  return out;
}

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
    text = read_small_file(path, 4096);
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
}  // namespace momento::auth
