// Token files in the console's Download-JSON shape (docs/wire.md §11).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "../util/encoding.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth {

namespace {

// Token files hold one key and a refresh token; anything much larger is not a token file.
constexpr size_t kMaxTokenFileSize = 64 * 1024;

void wipe_json_strings(nlohmann::json& j) {
  if (j.is_string()) {
    wipe(j.get_ref<std::string&>());
  } else if (j.is_structured()) {
    for (auto& v : j) wipe_json_strings(v);
  }
}

ExpiresAt parse_valid_until(const nlohmann::json& v) {
  if (v.is_null()) return ExpiresAt::never();
  if (v.is_number_unsigned()) return ExpiresAt::from_epoch(v.get<uint64_t>());
  if (v.is_number_integer()) {
    int64_t n = v.get<int64_t>();
    if (n < 0) throw_invalid("token file validUntil cannot be negative");
    return ExpiresAt::from_epoch(static_cast<uint64_t>(n));
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d >= 1.8446744073709552e19) {
      throw_invalid("token file validUntil must be a whole, non-negative number of seconds");
    }
    return ExpiresAt::from_epoch(static_cast<uint64_t>(d));
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20) {
      throw_invalid("token file validUntil must be a decimal number of epoch seconds");
    }
    uint64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') {
        throw_invalid("token file validUntil must be a decimal number of epoch seconds");
      }
      uint64_t digit = static_cast<uint64_t>(c - '0');
      if (n > (UINT64_MAX - digit) / 10) throw_invalid("token file validUntil is out of range");
      n = n * 10 + digit;
    }
    return ExpiresAt::from_epoch(n);
  }
  throw_invalid("token file validUntil must be a number or a decimal string");
}

[[noreturn]] void throw_io(const std::string& what, const std::string& path, int err) {
  throw_invalid(what + " '" + path + "': " + std::strerror(err));
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

TokenFile parse_token_file_json(std::string_view json) {
  if (json.size() > kMaxTokenFileSize) throw_invalid("token file is too large");
  if (!detail::is_valid_utf8(json)) throw_invalid("token file is not valid UTF-8");
  // Exceptions off: parser messages can quote the secret text.
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) throw_invalid("token file is not valid JSON");
  struct Wiper {
    nlohmann::json& j;
    ~Wiper() { wipe_json_strings(j); }
  } wiper{j};
  if (!j.is_object()) throw_invalid("token file JSON is not an object");

  TokenFile t;
  // "authToken" is what the console writes; the SDKs now call the same member "apiKey".
  auto at = j.find("authToken");
  if (at == j.end() || at->is_null()) at = j.find("apiKey");
  if (at == j.end() || at->is_null()) throw_invalid("token file has no authToken (or apiKey)");
  if (!at->is_string()) throw_invalid("token file authToken is not a string");
  if (at->get_ref<const std::string&>().empty()) throw_invalid("token file authToken is empty");
  t.auth_token = Secret(at->get<std::string>());

  auto rt = j.find("refreshToken");
  if (rt != j.end() && !rt->is_null()) {
    if (!rt->is_string()) throw_invalid("token file refreshToken is not a string");
    t.refresh_token = Secret(rt->get<std::string>());
  }

  auto vu = j.find("validUntil");
  if (vu != j.end()) t.valid_until = parse_valid_until(*vu);
  return t;
}

std::string token_file_json(const TokenFile& t) {
  if (t.auth_token.empty()) throw_invalid("token file authToken cannot be empty");
  if (!detail::is_valid_utf8(t.auth_token.reveal())) throw_invalid("token file authToken is not valid UTF-8");
  if (!detail::is_valid_utf8(t.refresh_token.reveal())) {
    throw_invalid("token file refreshToken is not valid UTF-8");
  }
  nlohmann::ordered_json j;
  j["authToken"] = t.auth_token.reveal();
  j["refreshToken"] = t.refresh_token.reveal();
  j["validUntil"] = std::to_string(t.valid_until.epoch());  // "0" = never
  std::string out = j.dump();
  wipe(j["authToken"].get_ref<std::string&>());
  wipe(j["refreshToken"].get_ref<std::string&>());
  return out;
}

TokenFile read_token_file(const std::string& path) {
  if (path.empty()) throw_invalid("token file path cannot be empty");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) throw_invalid("token file '" + path + "' is missing (no such file)");
  if (fd < 0) throw_io("cannot open token file", path, errno);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw_io("cannot stat token file", path, errno);
  if (!S_ISREG(st.st_mode)) throw_invalid("token file '" + path + "' is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxTokenFileSize) {
    throw_invalid("token file '" + path + "' is too large (" + std::to_string(st.st_size) +
                  " bytes; the limit is " + std::to_string(kMaxTokenFileSize) + ")");
  }
  Secret content;
  {
    std::string buf;
    buf.reserve(static_cast<size_t>(st.st_size) + 1);
    char chunk[4096];
    for (;;) {  // bounded: stops at EOF or once past the size limit
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        wipe(buf);
        throw_io("cannot read token file", path, err);
      }
      if (n == 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      if (buf.size() > kMaxTokenFileSize) {
        wipe(buf);
        OPENSSL_cleanse(chunk, sizeof chunk);
        throw_invalid("token file '" + path + "' is too large");
      }
    }
    OPENSSL_cleanse(chunk, sizeof chunk);
    content = Secret(std::move(buf));
  }
  try {
    return parse_token_file_json(content.reveal());
  } catch (const Error& e) {
    throw Error(e.code(), "token file '" + path + "': " + e.what());
  }
}

void write_token_file(const std::string& path, const TokenFile& t) {
  if (path.empty()) throw_invalid("token file path cannot be empty");
  Secret text(token_file_json(t));
  const std::string dir = parent_dir(path);
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) throw_invalid("token file path '" + path + "' names a directory");
  std::string tmp = (dir == "/" ? std::string() : dir) + "/." + base + ".tmpXXXXXX";
  // mkstemp creates the file with mode 0600 in the target directory, so rename stays atomic.
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw_io("cannot create a temporary file next to token file", path, errno);
  auto fail = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw_io(what, path, err);
  };
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) fail("cannot set mode 0600 on token file", errno);
  const std::string& data = text.reveal();
  size_t off = 0;
  while (off < data.size()) {  // bounded: every iteration writes at least one byte or fails
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write token file", errno);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot fsync token file", errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_io("cannot close token file", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_io("cannot replace token file", path, err);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw_io("cannot open the directory of token file", path, errno);
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0) throw_io("cannot fsync the directory of token file", path, err);
}

std::string base_endpoint_of_key(std::string_view auth_token) {
  try {
    return Credential::from_string(auth_token).base_endpoint();
  } catch (const Error&) {
    return "";  // not a key that names its endpoint
  }
}

}  // namespace momento::auth
