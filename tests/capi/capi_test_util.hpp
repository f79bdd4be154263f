// Helpers for the C ABI tests: an error-object holder, a local server process, temp dirs and
// sockets that misbehave on purpose. Only the public C header is used to talk to the library.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "momento/auth.h"
#include "temp_dir.hpp"

namespace capi_test {

// Owns the error object of one call; `out()` frees any previous one first.
struct Err {
  momento_error_t *p = nullptr;
  Err() = default;
  Err(const Err &) = delete;
  ~Err() { momento_error_free(p); }
  momento_error_t **out() {
    momento_error_free(p);
    p = nullptr;
    return &p;
  }
  momento_status_t code() const { return momento_error_code(p); }
  std::string message() const { return momento_error_message(p); }
  int32_t grpc() const { return momento_error_grpc_status(p); }
  bool retryable() const { return momento_error_retryable(p) != 0; }
};

// Checks status, error object and that the error object agrees with the status.
#define CHECK_FAILS_WITH(expected, err, expr)              \
  do {                                                     \
    momento_status_t st_ = (expr);                         \
    CHECK(st_ == (expected));                              \
    REQUIRE((err).p != nullptr);                           \
    CHECK((err).code() == (expected));                     \
    CHECK_FALSE((err).message().empty());                  \
  } while (0)

#define REQUIRE_OK(err, expr)                                   \
  do {                                                          \
    momento_status_t st_ = (expr);                              \
    INFO("error: " << momento_status_str(st_) << ": " << (err).message()); \
    REQUIRE(st_ == MOMENTO_OK);                                 \
  } while (0)

// A byte string that is not UTF-8 (a lone continuation byte and an overlong form).
inline const char *kBadUtf8 = "ab\x80\xc0\xaf";

using momento::test::TempDir;

// momento-auth-server on 127.0.0.1 with a free port and a bootstrapped super-user token file.
class Server {
 public:
  explicit Server(std::vector<std::string> extra_args = {}) {
    bootstrap_ = dir_.file("bootstrap.json");
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::string data = dir_.file("data");
    std::vector<std::string> args = {MOMENTO_SERVER_BIN, "--listen",   "127.0.0.1:0",
                                     "--data-dir",       data,         "--bootstrap",
                                     bootstrap_,         "--log-format", "off"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<char *> argv;
      for (auto &a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
    address_ = read_listening_line();
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      // Bounded: escalate if the server does not stop within ~10 s.
      for (int i = 0; i < 200; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) { pid_ = -1; break; }
        usleep(50 * 1000);
      }
      if (pid_ > 0) { kill(pid_, SIGKILL); waitpid(pid_, &status, 0); }
    }
    if (out_ >= 0) close(out_);
  }
  Server(const Server &) = delete;

  const std::string &address() const { return address_; }    // "127.0.0.1:PORT"
  const std::string &bootstrap_file() const { return bootstrap_; }

 private:
  std::string read_listening_line() {
    std::string line;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now()).count();
      if (left <= 0) throw std::runtime_error("server did not report its address in time");
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[256];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("server exited before listening");
      line.append(buf, static_cast<size_t>(n));
    }
    line.resize(line.find('\n'));
    const std::string prefix = "listening on ";
    if (line.rfind(prefix, 0) != 0) throw std::runtime_error("unexpected server output: " + line);
    return line.substr(prefix.size());
  }

  TempDir dir_;
  std::string bootstrap_;
  pid_t pid_ = -1;
  int out_ = -1;
  std::string address_;
};

// A TCP listener on 127.0.0.1 that accepts connections (via the backlog) and never answers.
struct SilentSocket {
  int fd = -1;
  uint16_t port = 0;
  SilentSocket() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd, 16) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentSocket() { close(fd); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

// A loopback port that nobody listens on (bound once, then released).
inline std::string closed_port_address() {
  SilentSocket s;
  uint16_t port = s.port;
  return "127.0.0.1:" + std::to_string(port);  // the socket closes when `s` goes out of scope
}

// ---- RAII for the C handles used in tests ----------------------------------------------------
template <class T, void (*Free)(T *)>
struct Owned {
  T *p = nullptr;
  Owned() = default;
  Owned(const Owned &) = delete;
  Owned(Owned &&o) noexcept : p(o.p) { o.p = nullptr; }
  ~Owned() { Free(p); }
  T **out() { Free(p); p = nullptr; return &p; }
  T *get() const { return p; }
};
using Credential = Owned<momento_credential_t, momento_credential_free>;
using Override = Owned<momento_endpoint_override_t, momento_endpoint_override_free>;
using Scope = Owned<momento_scope_t, momento_scope_free>;
using Expires = Owned<momento_expires_in_t, momento_expires_in_free>;
using Config = Owned<momento_client_config_t, momento_client_config_free>;
using Client = Owned<momento_auth_client_t, momento_auth_client_free>;
using Token = Owned<momento_token_t, momento_token_free>;
using Store = Owned<momento_store_t, momento_store_free>;
using StoreOptions = Owned<momento_store_options_t, momento_store_options_free>;
using RefOptions = Owned<momento_refresher_options_t, momento_refresher_options_free>;
using Refresher = Owned<momento_refresher_t, momento_refresher_free>;
using Event = Owned<momento_refresh_event_t, momento_refresh_event_free>;
using Watcher = Owned<momento_watcher_t, momento_watcher_free>;
using WatchedKey = Owned<momento_watched_key_t, momento_watched_key_free>;

// A client for the given address using the credential in a token file (plaintext override).
inline Client client_from_file(const std::string &file, const std::string &address,
                               int64_t deadline_ms = 10000) {
  Err err;
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), address.c_str(), 0, err.out()));
  Credential cred;
  REQUIRE_OK(err, momento_credential_from_file(cred.out(), file.c_str(), ov.get(), err.out()));
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), deadline_ms, err.out()));
  Client c;
  REQUIRE_OK(err, momento_auth_client_new(c.out(), cred.get(), cfg.get(), err.out()));
  return c;
}

// A client for a credential string (an envelope) at the given address.
inline Client client_from_string(const std::string &key, const std::string &address,
                                 int64_t deadline_ms = 10000) {
  Err err;
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), address.c_str(), 0, err.out()));
  Credential cred;
  REQUIRE_OK(err, momento_credential_from_string(cred.out(), key.c_str(), ov.get(), err.out()));
  Config cfg;
  REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), deadline_ms, err.out()));
  Client c;
  REQUIRE_OK(err, momento_auth_client_new(c.out(), cred.get(), cfg.get(), err.out()));
  return c;
}

inline Scope predefined(int32_t which) {
  Err err;
  Scope s;
  REQUIRE_OK(err, momento_scope_new_predefined(s.out(), which, err.out()));
  return s;
}

inline Expires expires(int32_t unit, int64_t amount) {
  Err err;
  Expires e;
  REQUIRE_OK(err, momento_expires_in_new(e.out(), unit, amount, err.out()));
  return e;
}

// Generates a read-write data key that lives `seconds` with the server's bootstrap key and
// writes it as a token file.
inline void mint_file(const Server &srv, int64_t seconds, const std::string &path) {
  Err err;
  Client admin = client_from_file(srv.bootstrap_file(), srv.address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires life = expires(MOMENTO_EXPIRES_SECONDS, seconds);
  Token t;
  REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), admin.get(), rw.get(), life.get(),
                                                       err.out()));
  REQUIRE_OK(err, momento_token_write_file(t.get(), path.c_str(), err.out()));
}

}  // namespace capi_test
