// FileStore, EnvStore, atomic file replacement and open_store().
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <openssl/rand.h>

#include "../util/encoding.hpp"
#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/store.hpp"

namespace momento::auth {
namespace {

std::pair<std::string, std::string> split_dir_base(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

[[noreturn]] void throw_errno(const std::string& what, int e) {
  throw Error(ErrorCode::Unknown, what + ": " + std::strerror(e));
}

// Temp files are named ".<base>.tmp.<pid>.<random>"; a writer killed mid-write leaves one behind.
void remove_stale_temps(const std::string& dir, const std::string& base) {
  const std::string prefix = "." + base + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      ::unlink((dir + "/" + name).c_str());
  }
  ::closedir(d);
}

void write_all(int fd, std::string_view data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write " + path, errno);
    }
    off += static_cast<size_t>(n);
  }
}

std::string content_version(std::string_view text) {
  return detail::hex(detail::sha256(text)).substr(0, 32);
}

}  // namespace

void atomic_write_file(const std::string& path, std::string_view content, unsigned mode) {
  if (path.empty()) throw_invalid("atomic_write_file: path is empty");
  auto [dir, base] = split_dir_base(path);
  if (base.empty()) throw_invalid("atomic_write_file: path names a directory: " + path);
  remove_stale_temps(dir, base);

  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof rnd) != 1) throw Error(ErrorCode::Unknown, "RAND_bytes failed");
  std::string tmp = dir + "/." + base + ".tmp." + std::to_string(::getpid()) + "." +
                    detail::hex(std::string_view(reinterpret_cast<char*>(rnd), sizeof rnd));

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw_errno("cannot create temp file in " + dir, errno);
  try {
    if (::fchmod(fd, mode) != 0) throw_errno("cannot chmod " + tmp, errno);  // umask-proof
    write_all(fd, content, tmp);
    if (::fsync(fd) != 0) throw_errno("cannot fsync " + tmp, errno);
    if (::close(fd) != 0) {
      fd = -1;
      throw_errno("cannot close " + tmp, errno);
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("cannot rename onto " + path, errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // The rename is durable only once the directory entry is on disk.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw_errno("cannot open directory " + dir, errno);
  int rc = ::fsync(dfd);
  int e = errno;
  ::close(dfd);
  if (rc != 0) throw_errno("cannot fsync directory " + dir, e);
}

// ---------------------------------------------------------------- FileStore

FileStore::FileStore(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw_invalid("file store: path is empty");
  if (path_.back() == '/') throw_invalid("file store: path names a directory: " + path_);
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw_invalid("file store: path names a directory: " + path_);
}

FileStore::~FileStore() = default;

std::optional<StoredToken> FileStore::load() {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("cannot open " + path_, errno);
  }
  struct stat st {};
  std::string text;
  try {
    if (::fstat(fd, &st) != 0) throw_errno("cannot stat " + path_, errno);
    if (st.st_size > 64 * 1024) throw_invalid("token file too large: " + path_);
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("cannot read " + path_, errno);
      }
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > 64 * 1024) throw_invalid("token file too large: " + path_);
    }
  } catch (...) {
    ::close(fd);
    wipe(text);
    throw;
  }
  ::close(fd);
  if (detail::trim_ascii_whitespace(text).empty()) return std::nullopt;
  StoredToken out;
  try {
    out.token = parse_token_file_json(text);
  } catch (...) {
    wipe(text);
    throw;
  }
  out.version = content_version(text);
  out.written_at_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  wipe(text);
  return out;
}

void FileStore::store(const TokenFile& token) {
  if (token.auth_token.empty()) throw_invalid("file store: authToken is empty");
  std::string json = token_file_json(token);
  try {
    atomic_write_file(path_, json, 0600);
  } catch (...) {
    wipe(json);
    throw;
  }
  wipe(json);
}

namespace {
class FileStoreLock final : public StoreLock {
 public:
  explicit FileStoreLock(const std::string& path) : lock_(path) {}

 private:
  detail::OfdLock lock_;
};
}  // namespace

std::unique_ptr<StoreLock> FileStore::lock() { return std::make_unique<FileStoreLock>(lock_path()); }

std::optional<PendingRefresh> FileStore::load_pending() {
  return detail::read_journal_file(journal_path());
}
void FileStore::store_pending(const PendingRefresh& p) {
  detail::write_journal_file(journal_path(), p);
}
void FileStore::clear_pending() { detail::remove_file_if_exists(journal_path()); }

// ---------------------------------------------------------------- EnvStore

EnvStore::EnvStore(std::string variable) : variable_(std::move(variable)) {
  if (variable_.empty()) throw_invalid("env store: variable name is empty");
  if (variable_.find('=') != std::string::npos)
    throw_invalid("env store: variable name contains '='");
}

std::optional<StoredToken> EnvStore::load() {
  const char* v = std::getenv(variable_.c_str());
  if (!v) return std::nullopt;
  std::string value(detail::trim_ascii_whitespace(v));
  if (value.empty()) return std::nullopt;
  StoredToken out;
  if (value.front() == '{') {
    out.token = parse_token_file_json(value);
  } else {
    out.token.auth_token = Secret(value);
  }
  out.version = content_version(value);
  wipe(value);
  return out;
}

void EnvStore::store(const TokenFile&) {
  throw Error(ErrorCode::FailedPrecondition,
              "store env:" + variable_ + " is read-only; refresh into a file or secret store");
}

std::unique_ptr<StoreLock> EnvStore::lock() { return std::make_unique<StoreLock>(); }

// ---------------------------------------------------------------- open_store

const char* store_kind_name(StoreKind kind) noexcept {
  switch (kind) {
    case StoreKind::File: return "file";
    case StoreKind::AwsSecretsManager: return "aws-sm";
    case StoreKind::Env: return "env";
  }
  return "";
}

StoreSpec parse_store_spec(std::string_view spec) {
  if (spec.empty()) throw_invalid("store: empty store specification");
  StoreSpec out;
  auto colon = spec.find(':');
  auto slash = spec.find('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
    out.location = std::string(spec);  // a bare path
    return out;
  }
  const std::string_view kind = spec.substr(0, colon);
  if (kind == "file") out.kind = StoreKind::File;
  else if (kind == "aws-sm") out.kind = StoreKind::AwsSecretsManager;
  else if (kind == "env") out.kind = StoreKind::Env;
  else
    throw_invalid("store: unknown kind in '" + std::string(kind) +
                  ":' (expected file:, aws-sm: or env:)");
  out.location = std::string(spec.substr(colon + 1));
  return out;
}

std::unique_ptr<TokenStore> open_store(std::string_view spec, const StoreOptions& options) {
  StoreSpec s = parse_store_spec(spec);
  switch (s.kind) {
    case StoreKind::File: return std::make_unique<FileStore>(std::move(s.location));
    case StoreKind::Env: return std::make_unique<EnvStore>(std::move(s.location));
    case StoreKind::AwsSecretsManager: break;
  }
  aws::SecretsManagerOptions o;
  o.secret_id = std::move(s.location);
  o.region = options.aws_region;
  o.profile = options.aws_profile;
  o.endpoint = options.aws_endpoint;
  o.lock_path = options.aws_lock_path;
  o.journal_path = options.aws_journal_path;
  return std::make_unique<aws::SecretsManagerStore>(std::move(o));
}

}  // namespace momento::auth
