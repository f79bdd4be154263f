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

#include "../util/files.hpp"
#include "../util/encoding.hpp"
#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/display.hpp"
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

using detail::throw_file_error;

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
  while (off < data.size()) {  // bounded: every iteration writes at least one byte or fails
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_file_error("cannot write", path, errno);
    }
    off += static_cast<size_t>(n);
  }
}

std::string content_version(std::string_view text) {
  return detail::hex(detail::sha256(text)).substr(0, 32);
}

}  // namespace

void atomic_write_file(const std::string& path, std::string_view content, unsigned mode) {
  if (path.empty()) throw_invalid("cannot write a file: the path is empty");
  // Through a symbolic link, the file it points to is replaced, with the temp file beside it.
  const std::string target = detail::replacement_target(path, "file");
  auto [dir, base] = split_dir_base(target);
  if (base.empty()) throw_invalid("cannot write " + shown_path(path) + ": it names a directory");
  remove_stale_temps(dir, base);

  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof rnd) != 1) throw Error(ErrorCode::Unknown, "RAND_bytes failed");
  std::string tmp = dir + "/." + base + ".tmp." + std::to_string(::getpid()) + "." +
                    detail::hex(std::string_view(reinterpret_cast<char*>(rnd), sizeof rnd));

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw_file_error("cannot create a temporary file next to", path, errno);
  try {
    if (::fchmod(fd, mode) != 0) throw_file_error("cannot set the mode of", path, errno);  // umask-proof
    write_all(fd, content, path);
    if (::fsync(fd) != 0) throw_file_error("cannot fsync", path, errno);
    if (::close(fd) != 0) {
      fd = -1;
      throw_file_error("cannot close", path, errno);
    }
    fd = -1;
    if (::rename(tmp.c_str(), target.c_str()) != 0) throw_file_error("cannot replace", path, errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // The rename is durable only once the directory entry is on disk.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw_file_error("cannot open the directory of", path, errno);
  int rc = ::fsync(dfd);
  int e = errno;
  ::close(dfd);
  if (rc != 0) throw_file_error("cannot fsync the directory of", path, e);
}

// ---------------------------------------------------------------- FileStore

FileStore::FileStore(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw_invalid("file store: path is empty");
  if (path_.back() == '/') throw_invalid("file store " + shown_path(path_) + " names a directory");
  try {
    target_ = detail::replacement_target(path_, "file store");
  } catch (const Error& e) {
    // A link to another user's file (a Kubernetes Secret volume: root's files, reached through
    // the ..data link) is still readable: the store opens read-only and says why on a write.
    const std::string why = e.what();
    if (e.code() != ErrorCode::InvalidArgument || why.find("owned by another user") == std::string::npos) throw;
    read_only_reason_ = why;
    target_ = path_;
  }
}

FileStore::~FileStore() = default;

std::string FileStore::describe() const {
  std::string d = "file:" + shown_path(path_, false);
  if (!read_only_reason_.empty()) d += " (read-only: owned by another user)";
  return d;
}

std::optional<StoreSnapshot> FileStore::load() {
  auto empty = [this]() -> std::optional<StoreSnapshot> {
    std::lock_guard<std::mutex> g(shape_mutex_);
    last_shape_ = TokenJson{};  // the next key starts a file of the default shape
    return std::nullopt;
  };
  struct stat st {};
  std::string text;
  for (int attempt = 1;; ++attempt) {
    try {
      text = detail::read_regular_file(path_, 64 * 1024, "file store", &st);
      break;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::NotFound) throw;
      // A link whose target vanished: in a Kubernetes volume, a read that followed "..data" to
      // the folder the kubelet removed right after swapping the link. The link now leads to the
      // new folder; read again.
      struct stat lst {};
      if (attempt >= 3 || ::lstat(path_.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) return empty();
    }
  }
  if (detail::trim_ascii_whitespace(text).empty()) return empty();
  StoreSnapshot out;
  TokenJson shape;
  try {
    out.token = parse_token_file_json(text, &shape);
  } catch (const Error& e) {
    wipe(text);
    throw Error(e.code(), "file store " + shown_path(path_) + ": " + e.what());
  }
  out.version = content_version(text);
  out.written_at_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  wipe(text);
  std::lock_guard<std::mutex> g(shape_mutex_);
  last_shape_ = std::move(shape);
  return out;
}

void FileStore::store(const Token& token) {
  if (!read_only_reason_.empty()) throw Error(ErrorCode::FailedPrecondition, read_only_reason_);
  if (token.api_key.empty()) throw_invalid("file store: authToken is empty");
  TokenJson shape;
  {
    std::lock_guard<std::mutex> g(shape_mutex_);
    shape = last_shape_;
  }
  std::string json = token_file_json(token, shape);
  try {
    atomic_write_file(path_, json, 0600);
  } catch (...) {
    wipe(json);
    throw;
  }
  wipe(json);
}

std::unique_ptr<StoreLock> FileStore::lock() { return std::make_unique<detail::OfdStoreLock>(lock_path()); }


// ---------------------------------------------------------------- EnvStore

EnvStore::EnvStore(std::string variable) : variable_(std::move(variable)) {
  if (variable_.empty()) throw_invalid("env store: variable name is empty");
  if (variable_.find('=') != std::string::npos)
    throw_invalid("env store: variable name contains '='");
}

std::optional<StoreSnapshot> EnvStore::load() {
  const char* v = std::getenv(variable_.c_str());
  if (!v) return std::nullopt;
  std::string value(detail::trim_ascii_whitespace(v));
  if (value.empty()) return std::nullopt;
  StoreSnapshot out;
  if (value.front() == '{') {
    out.token = parse_token_file_json(value);
  } else {
    out.token.api_key = Secret(value);
  }
  out.version = content_version(value);
  wipe(value);
  return out;
}

void EnvStore::store(const Token&) {
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
    case StoreKind::Exec: return "exec";
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
  else if (kind == "exec") out.kind = StoreKind::Exec;
  else
    throw_invalid("store: unknown kind in '" + std::string(kind) +
                  ":' (expected file:, aws-sm:, env: or exec:)");
  out.location = std::string(spec.substr(colon + 1));
  if (out.kind == StoreKind::Env && out.location.empty()) out.location = kApiKeyVar;
  if (out.kind == StoreKind::Exec) parse_exec_store_location(out.location);  // syntax errors now
  return out;
}

std::unique_ptr<TokenStore> open_store(std::string_view spec, const StoreOptions& options) {
  StoreSpec s = parse_store_spec(spec);
  switch (s.kind) {
    case StoreKind::File: return std::make_unique<FileStore>(std::move(s.location));
    case StoreKind::Env: return std::make_unique<EnvStore>(std::move(s.location));
    case StoreKind::Exec: return std::make_unique<ExecStore>(parse_exec_store_location(s.location));
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
