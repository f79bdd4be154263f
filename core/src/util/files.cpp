#include "files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <openssl/crypto.h>

#include "momento/auth/display.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/secret.hpp"

namespace momento::auth::detail {

void throw_file_error(std::string_view doing, std::string_view path, int err) {
  ErrorCode code = ErrorCode::InvalidArgument;
  switch (err) {
    case ENOENT: code = ErrorCode::NotFound; break;
    case EIO: case ENOSPC: case EDQUOT: case ENOMEM: case EMFILE: case ENFILE:
      code = ErrorCode::Unknown; break;
    default: break;  // EACCES, EPERM, EROFS, EISDIR, ENOTDIR, ELOOP, ENAMETOOLONG, ENXIO...
  }
  throw Error(code, std::string(doing) + " " + shown_path(path) + ": " + std::strerror(err));
}

namespace {

const char* type_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISLNK(m)) return "a symbolic link";
  return "a special file";
}

}  // namespace

std::string read_regular_file(const std::string& path, size_t limit, std::string_view what,
                              struct stat* st_out) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw_file_error("cannot open " + std::string(what), path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_file_error("cannot stat " + std::string(what), path, errno);
  if (!S_ISREG(st.st_mode))
    throw Error(ErrorCode::InvalidArgument, std::string(what) + " " + shown_path(path) + " is " +
                                                type_name(st.st_mode) + ", not a regular file");
  if (static_cast<uint64_t>(st.st_size) > limit)
    throw Error(ErrorCode::InvalidArgument,
                std::string(what) + " " + shown_path(path) + " is too large (" +
                    std::to_string(st.st_size) + " bytes; the limit is " + std::to_string(limit) + ")");
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char chunk[4096];
  for (;;) {  // bounded: stops at EOF or once past the limit
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      wipe(out);
      OPENSSL_cleanse(chunk, sizeof chunk);
      throw_file_error("cannot read " + std::string(what), path, e);
    }
    if (n == 0) break;
    out.append(chunk, static_cast<size_t>(n));
    if (out.size() > limit) {
      wipe(out);
      OPENSSL_cleanse(chunk, sizeof chunk);
      throw Error(ErrorCode::InvalidArgument,
                  std::string(what) + " " + shown_path(path) + " is too large");
    }
  }
  OPENSSL_cleanse(chunk, sizeof chunk);
  if (st_out) *st_out = st;
  return out;
}

std::string replacement_target(const std::string& path, std::string_view what) {
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) != 0) {
    if (errno == ENOENT) return path;  // a new file
    throw_file_error("cannot inspect " + std::string(what), path, errno);
  }
  if (S_ISREG(lst.st_mode)) return path;
  const std::string shown = std::string(what) + " " + shown_path(path);
  if (!S_ISLNK(lst.st_mode))
    throw Error(ErrorCode::InvalidArgument,
                shown + " is " + type_name(lst.st_mode) + ", not a regular file");
  // A symbolic link: replace the file it points to (renaming over the link would turn it into a
  // copy and leave the target with a stale, soon-consumed refresh token).
  const uid_t me = ::geteuid();
  if (lst.st_uid != me && lst.st_uid != 0)
    throw Error(ErrorCode::InvalidArgument,
                shown + " is a symbolic link owned by another user; refusing to write through it");
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
  if (!real) {
    const int e = errno;
    throw Error(ErrorCode::InvalidArgument,
                shown + " is a symbolic link that does not resolve to a file (" + std::strerror(e) +
                    "); refusing to write through it");
  }
  struct stat st {};
  if (::stat(real.get(), &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(ErrorCode::InvalidArgument,
                shown + " is a symbolic link to something that is not a regular file; refusing to "
                        "write through it");
  if (st.st_uid != me)
    throw Error(ErrorCode::InvalidArgument,
                shown + " is a symbolic link to a file owned by another user; refusing to write "
                        "through it");
  return real.get();
}

}  // namespace momento::auth::detail
