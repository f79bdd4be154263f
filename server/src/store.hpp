// Durable server state in SQLite (WAL): keys, refresh-token families, caches' metadata.
// Secrets are never stored in plaintext: keys and refresh tokens are looked up by SHA-256.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <functional>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace momento::server {

enum class KeyClass { SuperUser, Explicit, Disposable, Session, Legacy, V2 };
const char* key_class_name(KeyClass c) noexcept;
std::optional<KeyClass> key_class_from_name(std::string_view s) noexcept;

struct KeyRecord {
  std::string key_hash;     // SHA-256 of the raw key (32 bytes)
  KeyClass cls = KeyClass::Explicit;
  std::string permissions;  // serialized permission_messages.Permissions
  int64_t created_at = 0;
  int64_t valid_until = 0;  // 0 = never
  int64_t lifetime = 0;     // original valid_for_seconds; 0 = never
  std::string endpoint;
  std::string token_id;
  std::string description;
  std::string family_id;     // refresh family; empty when not refreshable
  // SHA-256 of the refresh token issued with the key. list_keys() fills it with the token the
  // key still holds (empty once consumed); other reads return the one issued at minting.
  std::string refresh_hash;
  std::string kid;           // signing key; empty for seeded (non-JWT) keys
  bool revoked = false;
  bool bootstrap = false;
  int64_t refresh_id = 0;    // the refresh token issued with the key (0: none)

  // Short public id for admin listings: first 16 hex digits of the hash.
  std::string key_id() const;
};

// "revoked", "expired" or "active", as admin listings and the web console show a key.
const char* key_state(const KeyRecord& k, int64_t now) noexcept;

struct RefreshRecord {
  int64_t id = 0;  // assigned in issue order by insert_refresh()
  std::string token_hash;
  std::string family_id;
  std::string key_hash;  // key issued together with this token
  int64_t issued_at = 0;
  int64_t consumed_at = 0;  // 0 while current
  int64_t successor_id = 0;   // the token that replaced this one (0: none yet)
  std::string sealed_answer;  // successor answer sealed under this token (grace replay)
};

struct FamilyRecord {
  std::string family_id;
  int64_t created_at = 0;
  bool revoked = false;
  std::string revoked_reason;
};

struct CacheRecord {
  std::string name;
  int64_t created_at = 0;
};

class Sqlite;

struct StoreOptions {
  bool synchronous_full = false;  // PRAGMA synchronous=FULL (power-loss safe) vs NORMAL
};

// Connections: one writer (every change, and every read made inside transaction()), one
// reader for reads outside transactions (WAL lets it run while the writer works), and one
// used only by the background checkpoint thread.
class Store {
 public:
  explicit Store(const std::filesystem::path& db_file, StoreOptions opts = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs f atomically and durably: returns only after the COMMIT that contains f's changes
  // (rolled back, and the exception rethrown here, if f throws). Concurrent calls are grouped:
  // one thread runs a batch of queued closures in one BEGIN IMMEDIATE ... COMMIT with a
  // SAVEPOINT around each, so a failing closure undoes only its own changes. Closures run on the
  // calling thread when nothing else is being written, else on the store's writer thread; a
  // transaction() call made inside a closure runs inline.
  void transaction(const std::function<void()>& f);

  // Changes whenever a key or family may have been revoked: commits by other connections
  // (PRAGMA data_version of the writer connection, e.g. the admin command in another process)
  // and this store's own revocations (counted once they are committed). Read it before reading
  // the data that a cached result depends on.
  struct Generation {
    int64_t data_version = -1;
    uint64_t local = 0;
    bool operator==(const Generation& o) const {
      return data_version == o.data_version && local == o.local;
    }
  };
  Generation generation();

  // The methods below may be called inside or outside transaction(); writes made outside
  // one run as a transaction of their own.
  std::optional<KeyRecord> find_key(std::string_view key_hash);
  std::optional<KeyRecord> find_key_by_id(std::string_view key_id_prefix);
  void insert_key(const KeyRecord& k);
  bool revoke_key(std::string_view key_hash);
  std::vector<KeyRecord> list_keys();
  std::optional<KeyRecord> find_bootstrap_key();

  void insert_family(const FamilyRecord& f);
  std::optional<FamilyRecord> find_family(std::string_view family_id);
  // Marks the family revoked, and every key and refresh token in it; returns false if unknown.
  bool revoke_family(std::string_view family_id, std::string_view reason);

  // Returns the new token's id (store it in the key's refresh_id).
  int64_t insert_refresh(const RefreshRecord& r);
  std::optional<RefreshRecord> find_refresh(int64_t id);
  void consume_refresh(int64_t id, int64_t at, int64_t successor_id,
                       std::string_view sealed_answer);
  // Drops sealed answers older than `before` (they are only needed inside the grace window).
  void forget_sealed_before(int64_t before);

  bool insert_cache(const CacheRecord& c);  // false if it already exists
  bool delete_cache(std::string_view name);  // false if unknown
  bool cache_exists(std::string_view name);
  std::vector<CacheRecord> list_caches();

 private:
  // One queued transaction() call. Shared by the caller and the writer thread, so the writer
  // can signal completion without the caller's frame having to outlive the signal.
  struct Pending {
    const std::function<void()>* f = nullptr;
    std::exception_ptr error;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;  // its batch has been committed (or failed); guarded by mu
  };
  // The writer thread: once a committing caller hands it the calls that queued behind it, it
  // commits them in batches back to back until the queue is empty.
  void write_loop();
  void migrate();
  bool in_transaction() const;
  struct Reader;
  Reader reader();
  // Runs `batch` in one transaction on the writer connection.
  void run_batch(const std::vector<std::shared_ptr<Pending>>& batch);
  int64_t read_data_version();
  void checkpoint_loop(std::filesystem::path db_file, bool sync_full);

  std::recursive_mutex mu_;  // the writer connection
  std::unique_ptr<Sqlite> db_;
  std::mutex read_mu_;       // the reader connection
  std::unique_ptr<Sqlite> rdb_;

  // Who commits now. A call that finds nobody committing commits itself (no thread hand-off at
  // low load); calls that arrive while a commit runs queue up for the writer thread.
  enum class Writer { None, Caller, Thread };
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // the writer thread waits here to be handed the queue
  std::deque<std::shared_ptr<Pending>> queue_;
  Writer writer_ = Writer::None;
  bool writer_lingering_ = false;  // the writer thread waits briefly for more calls
  bool writer_stopping_ = false;  // the destructor runs
  std::thread writer_thread_;

  std::atomic<uint64_t> local_generation_{0};
  bool revoked_in_batch_ = false;  // writer thread only
  // data_version read right after BEGIN IMMEDIATE while the writer holds SQLite's write lock
  // (no other connection can commit then); -1 outside. Lets generation() avoid waiting.
  std::atomic<int64_t> locked_data_version_{-1};

  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace momento::server
