// Helper commands: posix_spawn with pipes, a poll loop bounded by a deadline.
#include "command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "momento/auth/error.hpp"
#include "momento/auth/secret.hpp"
#include "../util/crypto.hpp"

extern char** environ;

namespace momento::auth::detail {
namespace {

constexpr size_t kErrKeep = 4096;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void make_pipe(Fd& r, Fd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw Error(ErrorCode::ClientResourceExhausted, "pipe2 failed");
  r.fd = p[0];
  w.fd = p[1];
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds timeout, size_t out_limit) {
  if (argv.empty() || argv[0].empty()) throw_invalid("command: the argument list is empty");
  // stdin is a socket so that writing to a helper that exits early gives EPIPE, not SIGPIPE.
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
    throw Error(ErrorCode::ClientResourceExhausted, "socketpair failed");
  Fd in_child(sp[0]), in_parent(sp[1]);
  Fd out_r, out_w, err_r, err_w;
  make_pipe(out_r, out_w);
  make_pipe(err_r, err_w);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_child.fd, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: a timeout kills its children too
  sigset_t none, dfl;
  sigemptyset(&none);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &dfl);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw_invalid("cannot run command '" + argv[0] + "': " + std::strerror(rc));
  in_child.reset();
  out_w.reset();
  err_w.reset();

  CommandResult res;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t written = 0;
  if (input.empty()) ::shutdown(in_parent.fd, SHUT_WR);
  else ::fcntl(in_parent.fd, F_SETFL, O_NONBLOCK);
  bool overflow = false;
  bool exited = false;
  int status = 0;
  auto grace = deadline;
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    // A helper may leave a daemon holding its pipes (gpg starts gpg-agent): once it has exited,
    // read what is left for a moment only.
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      grace = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    if (exited && std::chrono::steady_clock::now() >= grace) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      break;
    }
    pollfd p[3];
    int n = 0;
    int i_out = -1, i_err = -1, i_in = -1;
    if (out_r.fd >= 0) { i_out = n; p[n++] = {out_r.fd, POLLIN, 0}; }
    if (err_r.fd >= 0) { i_err = n; p[n++] = {err_r.fd, POLLIN, 0}; }
    if (written < input.size() && in_parent.fd >= 0) { i_in = n; p[n++] = {in_parent.fd, POLLOUT, 0}; }
    int pr = ::poll(p, n, static_cast<int>(std::min<int64_t>(left.count(), exited ? 20 : 50)));
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[4096];
    if (i_in >= 0 && (p[i_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::send(in_parent.fd, input.data() + written, input.size() - written, MSG_NOSIGNAL);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // it stopped reading
      if (written >= input.size()) ::shutdown(in_parent.fd, SHUT_WR);
    }
    if (i_out >= 0 && (p[i_out].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(out_r.fd, buf, sizeof buf);
      if (r > 0) {
        if (res.out.size() + static_cast<size_t>(r) > out_limit) overflow = true;
        else append_wiped(res.out, std::string_view(buf, static_cast<size_t>(r)));
      } else if (r == 0 || errno != EINTR) {
        out_r.reset();
      }
      std::memset(buf, 0, sizeof buf);
    }
    if (i_err >= 0 && (p[i_err].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(err_r.fd, buf, sizeof buf);
      if (r > 0) {
        res.err.append(buf, static_cast<size_t>(r));
        if (res.err.size() > kErrKeep) res.err.erase(0, res.err.size() - kErrKeep);
      } else if (r == 0 || errno != EINTR) {
        err_r.reset();
      }
      std::memset(buf, 0, sizeof buf);
    }
    if (overflow) break;
  }
  in_parent.reset();
  if (!exited && (res.timed_out || overflow)) ::kill(-pid, SIGKILL);
  // After SIGKILL (or once both pipes closed) the child is gone or about to be; a helper that
  // closed its pipes but keeps running is bounded by the same deadline.
  while (!exited) {
    pid_t w = ::waitpid(pid, &status, res.timed_out || overflow ? 0 : WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (w == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        res.timed_out = true;
        ::kill(-pid, SIGKILL);
        continue;
      }
      ::usleep(2000);
    }
  }
  if (overflow) {
    wipe(res.out);
    throw Error(ErrorCode::InvalidArgument,
                "command '" + argv[0] + "' printed more than " + std::to_string(out_limit) + " bytes");
  }
  if (exited) res.timed_out = false;  // it finished in time; a lingering daemon is not its fault
  if (!res.timed_out) {
    if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  }
  return res;
}

std::string describe_failure(const CommandResult& r, std::chrono::milliseconds timeout,
                             const std::vector<std::string_view>& secrets) {
  std::string what;
  if (r.timed_out) what = "timed out after " + std::to_string(timeout.count()) + " ms";
  else if (r.signal) what = "was killed by signal " + std::to_string(r.signal);
  else what = "exited with status " + std::to_string(r.exit_code);
  std::string err = r.err;
  for (auto s : secrets) {
    if (s.size() < 4) continue;  // too short to be a secret worth hiding, and would mangle text
    for (size_t p = err.find(s); p != std::string::npos; p = err.find(s, p))
      err.replace(p, s.size(), "[redacted]");
  }
  // The last non-empty line: helpers put their reason there.
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r' || err.back() == ' ')) err.pop_back();
  auto nl = err.rfind('\n');
  std::string line = nl == std::string::npos ? err : err.substr(nl + 1);
  std::string clean;
  for (char c : line)
    if (c >= 0x20 && c < 0x7f) clean.push_back(c);
  if (clean.size() > 200) clean = clean.substr(0, 200) + "...";
  wipe(err);
  if (!clean.empty()) what += ": " + clean;
  return what;
}

std::vector<std::string> split_command_line(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      auto end = line.find('\'', i + 1);
      if (end == std::string_view::npos) throw_invalid("command line: unterminated ' quote");
      cur.append(line.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            (line[j + 1] == '"' || line[j + 1] == '\\' || line[j + 1] == '$' || line[j + 1] == '`'))
          ++j;
        cur.push_back(line[j]);
      }
      if (j >= line.size()) throw_invalid("command line: unterminated \" quote");
      i = j;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      cur.push_back(line[++i]);
      in_word = true;
    } else {
      cur.push_back(c);
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

}  // namespace momento::auth::detail
