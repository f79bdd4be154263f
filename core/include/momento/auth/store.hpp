// Token stores: where a fleet keeps its current key (docs/refresh.md; docs/wire.md §11).
//
// Every store holds one Token in the Download-JSON shape {"authToken","refreshToken",
// "validUntil"}, so secrets written by Momento's own refresh tooling work unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "momento/auth/credential.hpp"

namespace momento::auth {

// What a store held when it was read: the token, and when and in which version it was written.
struct StoreSnapshot {
  Token token;
  // Opaque, changes whenever the content changes (file: content digest; AWS: VersionId).
  std::string version;
  // When this content was written (file mtime, AWS version CreatedDate), Unix epoch ms;
  // used to estimate a key's lifetime. Absent when the store cannot tell.
  std::optional<int64_t> written_at_ms;
};

// A refresh that was started and whose outcome is not yet recorded in the store. Written
// before RefreshApiToken is sent, cleared after the new key is stored.
struct PendingRefresh {
  std::string key_fingerprint;  // token_fingerprint() of the key being refreshed
  int64_t started_at_ms = 0;    // Unix epoch ms
  bool operator==(const PendingRefresh&) const = default;
};

// A stable, non-secret identifier of a key: hex SHA-256 of the authToken string. Safe to log
// and to persist (one-way over a high-entropy value). Empty input gives "".
std::string token_fingerprint(std::string_view auth_token);

// Held for as long as the cross-process store lock is owned; the destructor releases it.
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

// One place a key lives. Implementations are thread-safe: any number of threads may call any
// member at once (each store method is a self-contained operation).
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // Reads the current content. std::nullopt when the store holds nothing yet (missing file,
  // secret without a value). Throws Error on I/O failures and unparsable content.
  virtual std::optional<StoreSnapshot> load() = 0;

  // Replaces the content atomically: a concurrent load() sees the old or the new token, never a
  // mix. Throws Error(FailedPrecondition) on read-only stores.
  virtual void store(const Token& token) = 0;

  // Cross-process exclusive lock for a read-refresh-write cycle. Blocks until owned.
  virtual std::unique_ptr<StoreLock> lock() = 0;

  // Refresh journal (lost-answer recovery). Only meaningful while lock() is held. By default
  // it is the file journal_path() names ({"keyFingerprint","startedAtMs"}, written atomically;
  // a torn or missing file = no entry), or memory when that is empty.
  virtual std::optional<PendingRefresh> load_pending();
  virtual void store_pending(const PendingRefresh& pending);
  virtual void clear_pending();
  virtual std::string journal_path() const { return {}; }

  virtual bool writable() const noexcept = 0;
  // e.g. "file:/etc/momento/token.json", "aws-sm:prod/momento (us-west-2)", "env:MOMENTO_API_KEY".
  // Never contains a secret.
  virtual std::string describe() const = 0;

 private:
  std::mutex journal_mutex_;
  std::optional<PendingRefresh> journal_;  // the in-memory journal
};

// A JSON file in the Download-JSON shape.
//  - store(): the key written back in the shape of the file the last load() read (its member
//    names, order and other members: token_file_json), else the Download-JSON shape; temp file in the same directory (0600, O_EXCL), fsync, rename over the target,
//    fsync the directory; stale temp files of dead writers are removed.
//  - lock(): an open-file-description lock (fcntl F_OFD_SETLKW) on "<path>.lock", so it excludes
//    other processes and other FileStore objects in the same process alike, and is released by
//    the kernel when a holder dies.
//  - journal: "<path>.inflight", written the same atomic way.
class FileStore final : public TokenStore {
 public:
  // Throws InvalidArgument for an empty path, one naming a directory or anything else that is not
  // a regular file, or a symbolic link atomic_write_file() would refuse to write through: checked
  // here so a refresh never spends a refresh token it then cannot store. A symbolic link is
  // resolved now; its target is the file replaced, and the lock and journal live beside it.
  // A link to another user's file (a Kubernetes Secret volume, read by a non-root process) opens
  // read-only instead: writable() is false and store() says why (FailedPrecondition).
  //
  // Reads follow links at every load(), so a Kubernetes projected volume, which swaps its
  // "..data" link to a new timestamped folder, is read whole from the old or the new folder.
  explicit FileStore(std::string path);
  ~FileStore() override;

  std::optional<StoreSnapshot> load() override;
  void store(const Token& token) override;
  std::unique_ptr<StoreLock> lock() override;
  bool writable() const noexcept override { return read_only_reason_.empty(); }
  // "file:PATH", the path shown as shown_path() does; " (read-only: owned by another user)"
  // follows for a link to another user's file.
  std::string describe() const override;

  const std::string& path() const noexcept { return path_; }
  std::string lock_path() const { return target_ + ".lock"; }
  std::string journal_path() const override { return target_ + ".inflight"; }

 private:
  std::string path_;
  std::string target_;  // path_, or the file a symbolic link at path_ points to
  std::string read_only_reason_;  // why writes are refused; empty = writable
  std::mutex shape_mutex_;
  TokenJson last_shape_;  // of the text the last load() read
};

// Read-only: an environment variable holding either the Download-JSON object or a bare key
// (then: no refresh token, never expires as far as the store knows).
class EnvStore final : public TokenStore {
 public:
  explicit EnvStore(std::string variable = kApiKeyVar);

  std::optional<StoreSnapshot> load() override;
  void store(const Token& token) override;  // throws FailedPrecondition
  std::unique_ptr<StoreLock> lock() override;    // a no-op lock
  std::optional<PendingRefresh> load_pending() override { return std::nullopt; }
  void store_pending(const PendingRefresh&) override {}
  void clear_pending() override {}
  bool writable() const noexcept override { return false; }
  std::string describe() const override { return "env:" + variable_; }

 private:
  std::string variable_;
};

// What an exec: store runs. Each command is an argument list run without a shell.
struct ExecStoreOptions {
  // Prints the key on stdout: the Download-JSON object or a bare key. Exit 0 with nothing
  // printed = an empty store. Required.
  std::vector<std::string> read;
  // Reads the Download-JSON object on stdin and stores it. Empty = a read-only store.
  std::vector<std::string> write;
  std::chrono::milliseconds timeout{30000};  // per command run
  std::string lock_path;     // local OFD lock file for refreshers on this host; empty = none
  std::string journal_path;  // refresh journal file; empty = in memory
};

// A key kept by any secret manager that has a command-line tool (pass, gcloud, vault, op,
// kubectl, sops...), in the style of AWS credential_process and git/Docker credential helpers.
// The key travels through the helpers' stdin and stdout only, never their arguments or
// environment. A helper that fails or times out (it is killed with its process group) is an
// Error naming the command, its exit status and a sanitised last line of its stderr; a failed
// write leaves the store as the helper left it, and the caller keeps its old key.
class ExecStore final : public TokenStore {
 public:
  explicit ExecStore(ExecStoreOptions options);

  std::optional<StoreSnapshot> load() override;
  void store(const Token& token) override;  // FailedPrecondition without a write command
  std::unique_ptr<StoreLock> lock() override;
  std::string journal_path() const override { return options_.journal_path; }
  bool writable() const noexcept override { return !options_.write.empty(); }
  // "exec:PROGRAM": the read command's program name only (its arguments are not shown).
  std::string describe() const override;

 private:
  ExecStoreOptions options_;
};

// The location of an "exec:" specification, a JSON object:
//   {"read": ["pass", "show", "momento/key"], "write": ["pass", "insert", "-m", "-f", "momento/key"],
//    "timeoutMs": 30000, "lock": "/run/momento/key.lock", "journal": "/var/lib/momento/key.inflight"}
// Only "read" is required. InvalidArgument naming the member for anything else.
ExecStoreOptions parse_exec_store_location(std::string_view location);

// Writes a file atomically (temp in the same directory with `mode`, fsync, rename, fsync of the
// directory). Shared by token files, the stores and their journals. When `path` is a symbolic
// link, the file it points to is replaced (temp file beside it), and only when the link and that
// file belong to this user; anything else that is not a regular file is refused.
void atomic_write_file(const std::string& path, std::string_view content, unsigned mode = 0600);

// Options for open_store(); the AWS ones are ignored by other kinds.
struct StoreOptions {
  std::string aws_region;    // default: AWS_REGION / AWS_DEFAULT_REGION / shared config
  std::string aws_profile;   // default: AWS_PROFILE / "default"
  std::string aws_endpoint;  // default: AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL
  std::string aws_lock_path;     // local OFD lock file shared by refreshers on this host
  std::string aws_journal_path;  // local refresh journal file (default: in memory)
};

enum class StoreKind { File = 1, AwsSecretsManager = 2, Env = 3, Exec = 4 };
const char* store_kind_name(StoreKind kind) noexcept;  // "file", "aws-sm", "env", "exec"

// A store specification, parsed: the kind and what it names (path, secret id or variable).
struct StoreSpec {
  StoreKind kind = StoreKind::File;
  std::string location;
};

// "file:PATH", "aws-sm:SECRET-ID", "env:VARIABLE" or "exec:{JSON}" (parse_exec_store_location);
// a bare path means file:PATH, and "env:" alone the variable MOMENTO_API_KEY (kApiKeyVar). InvalidArgument for an empty specification or an unknown kind
// before the first ':' (not after a '/'). An exec: location is checked here (it is all syntax);
// the others are checked by the store that opens them.
StoreSpec parse_store_spec(std::string_view spec);

// The store parse_store_spec(spec) names. Nothing is read yet.
std::unique_ptr<TokenStore> open_store(std::string_view spec, const StoreOptions& options = {});

}  // namespace momento::auth
