#include "store.hpp"

#include <pthread.h>
#include <sys/stat.h>

#include <chrono>
#include <stdexcept>
#include <unordered_map>

#include "crypto.hpp"

namespace momento::server {

const char* key_class_name(KeyClass c) noexcept {
  switch (c) {
    case KeyClass::SuperUser: return "super_user";
    case KeyClass::Explicit: return "explicit";
    case KeyClass::Disposable: return "disposable";
    case KeyClass::Session: return "session";
    case KeyClass::Legacy: return "legacy";
    case KeyClass::V2: return "v2";
  }
  return "?";
}

std::optional<KeyClass> key_class_from_name(std::string_view s) noexcept {
  for (KeyClass c : {KeyClass::SuperUser, KeyClass::Explicit, KeyClass::Disposable,
                     KeyClass::Session, KeyClass::Legacy, KeyClass::V2})
    if (s == key_class_name(c)) return c;
  return std::nullopt;
}

std::string KeyRecord::key_id() const { return hex(key_hash).substr(0, 16); }

const char* key_state(const KeyRecord& k, int64_t now) noexcept {
  if (k.revoked) return "revoked";
  return k.valid_until != 0 && now >= k.valid_until ? "expired" : "active";
}

// Thin RAII layer over sqlite3 with a statement cache.
class Sqlite {
 public:
  explicit Sqlite(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        // Each connection is used under a mutex of Store's own.
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Sqlite() {
    for (auto& [_, s] : stmts_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + msg);
    }
  }
  // Resets the statement when it goes out of scope, so no read snapshot lingers.
  struct Stmt {
    sqlite3_stmt* s;
    Stmt(sqlite3_stmt* st) : s(st) {}
    Stmt(const Stmt&) = delete;
    Stmt& operator=(sqlite3_stmt* st) {
      sqlite3_reset(s);
      s = st;
      return *this;
    }
    ~Stmt() { sqlite3_reset(s); }
    operator sqlite3_stmt*() const { return s; }
  };
  sqlite3_stmt* prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    stmts_.emplace(sql, s);
    return s;
  }
  // Runs a statement without parameters through the statement cache.
  void run(const std::string& sql) {
    sqlite3_stmt* s = prepare(sql);
    int rc = sqlite3_step(s);
    while (rc == SQLITE_ROW) rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  int64_t query_int(const std::string& sql) {
    Stmt s = prepare(sql);
    if (sqlite3_step(s) != SQLITE_ROW)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    return sqlite3_column_int64(s, 0);
  }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() const { return db_; }
  const char* errmsg() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;
};

namespace {

// Binds values positionally.
struct Binder {
  sqlite3_stmt* s;
  int i = 1;
  Binder& text(std::string_view v) {
    sqlite3_bind_text(s, i++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Binder& blob(std::string_view v) {
    if (v.empty()) sqlite3_bind_null(s, i++);
    else sqlite3_bind_blob(s, i++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Binder& int64(int64_t v) {
    sqlite3_bind_int64(s, i++, v);
    return *this;
  }
};

std::string col_text(sqlite3_stmt* s, int c) {
  const unsigned char* p = sqlite3_column_text(s, c);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, c)))
           : std::string();
}
std::string col_blob(sqlite3_stmt* s, int c) {
  const void* p = sqlite3_column_blob(s, c);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, c)))
           : std::string();
}

// Version 0: the first layout (PRAGMA user_version 0). Created as is, then migrated, so that new
// and old data directories take the same path.
const char* kSchemaV0 = R"sql(
CREATE TABLE IF NOT EXISTS keys(
  key_hash BLOB PRIMARY KEY,
  class TEXT NOT NULL,
  permissions BLOB,
  created_at INTEGER NOT NULL,
  valid_until INTEGER NOT NULL,
  lifetime INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  token_id TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  family_id TEXT,
  refresh_hash BLOB,
  kid TEXT NOT NULL DEFAULT '',
  revoked INTEGER NOT NULL DEFAULT 0,
  bootstrap INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS keys_family ON keys(family_id);
CREATE TABLE IF NOT EXISTS families(
  family_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS refresh_tokens(
  token_hash BLOB PRIMARY KEY,
  family_id TEXT NOT NULL,
  key_hash BLOB NOT NULL,
  issued_at INTEGER NOT NULL,
  consumed_at INTEGER NOT NULL DEFAULT 0,
  successor_hash BLOB,
  sealed_answer BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refresh_family ON refresh_tokens(family_id);
CREATE INDEX IF NOT EXISTS refresh_sealed ON refresh_tokens(consumed_at) WHERE sealed_answer IS NOT NULL;
CREATE TABLE IF NOT EXISTS caches(
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);
)sql";

// Version 1: fewer B-tree pages written per refresh. Sealed answers move to an append-only
// table trimmed from the front (refresh_tokens.answer_id points there; the partial index on
// consumed_at goes); keys of a family are found through refresh_tokens (every key of a family
// was issued with a refresh token), so keys(family_id) needs no index; and keys.refresh_hash
// is no longer cleared on rotation (list_keys derives it from refresh_tokens).
const char* kMigrateV1 = R"sql(
ALTER TABLE refresh_tokens ADD COLUMN answer_id INTEGER;
CREATE TABLE recent_answers(
  id INTEGER PRIMARY KEY,
  consumed_at INTEGER NOT NULL,
  sealed BLOB NOT NULL
);
)sql";

// Version 2: refresh tokens are rows in issue order (INTEGER PRIMARY KEY), reached from the key
// they were issued with (keys.refresh_id) and from their predecessor (successor_id) instead of
// through their hash. A refresh then appends its new token next to the last one issued instead
// of inserting it at a random place in a B-tree keyed by hash, so the pages a commit writes do
// not grow with the table. The family index orders a family's tokens by issue too.
const char* kMigrateV2 = R"sql(
CREATE TABLE refresh_tokens_v2(
  id INTEGER PRIMARY KEY,
  token_hash BLOB NOT NULL,
  family_id TEXT NOT NULL,
  key_hash BLOB NOT NULL,
  issued_at INTEGER NOT NULL,
  consumed_at INTEGER NOT NULL DEFAULT 0,
  successor_id INTEGER,
  answer_id INTEGER
);
INSERT INTO refresh_tokens_v2(token_hash, family_id, key_hash, issued_at, consumed_at, answer_id)
  SELECT token_hash, family_id, key_hash, issued_at, consumed_at, answer_id FROM refresh_tokens
  ORDER BY issued_at, token_hash;
CREATE INDEX migrate_token ON refresh_tokens_v2(token_hash);
CREATE INDEX migrate_key ON refresh_tokens_v2(key_hash);
UPDATE refresh_tokens_v2 SET successor_id = (
  SELECT n.id FROM refresh_tokens o JOIN refresh_tokens_v2 n ON n.token_hash = o.successor_hash
  WHERE o.token_hash = refresh_tokens_v2.token_hash);
ALTER TABLE keys ADD COLUMN refresh_id INTEGER;
UPDATE keys SET refresh_id = (
  SELECT id FROM refresh_tokens_v2 r WHERE r.key_hash = keys.key_hash);
DROP INDEX migrate_token;
DROP INDEX migrate_key;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_v2 RENAME TO refresh_tokens;
CREATE INDEX refresh_family ON refresh_tokens(family_id);
PRAGMA user_version = 2;
)sql";

constexpr const char* kKeyCols =
    "key_hash, class, permissions, created_at, valid_until, lifetime, endpoint, token_id, "
    "description, family_id, refresh_hash, kid, revoked, bootstrap, refresh_id";

KeyRecord read_key(sqlite3_stmt* s) {
  KeyRecord k;
  k.key_hash = col_blob(s, 0);
  k.cls = key_class_from_name(col_text(s, 1)).value_or(KeyClass::Explicit);
  k.permissions = col_blob(s, 2);
  k.created_at = sqlite3_column_int64(s, 3);
  k.valid_until = sqlite3_column_int64(s, 4);
  k.lifetime = sqlite3_column_int64(s, 5);
  k.endpoint = col_text(s, 6);
  k.token_id = col_text(s, 7);
  k.description = col_text(s, 8);
  k.family_id = col_text(s, 9);
  k.refresh_hash = col_blob(s, 10);
  k.kid = col_text(s, 11);
  k.revoked = sqlite3_column_int(s, 12) != 0;
  k.bootstrap = sqlite3_column_int(s, 13) != 0;
  k.refresh_id = sqlite3_column_int64(s, 14);
  return k;
}

RefreshRecord read_refresh(sqlite3_stmt* s) {
  RefreshRecord r;
  r.id = sqlite3_column_int64(s, 0);
  r.token_hash = col_blob(s, 1);
  r.family_id = col_text(s, 2);
  r.key_hash = col_blob(s, 3);
  r.issued_at = sqlite3_column_int64(s, 4);
  r.consumed_at = sqlite3_column_int64(s, 5);
  r.successor_id = sqlite3_column_int64(s, 6);
  r.sealed_answer = col_blob(s, 7);
  return r;
}

}  // namespace

#define STEP_DONE(stmt)                                                              \
  do {                                                                               \
    int rc_ = sqlite3_step(stmt);                                                    \
    if (rc_ != SQLITE_DONE) throw std::runtime_error(std::string("sqlite step: ") + \
                                                     db_->errmsg());                 \
  } while (0)

namespace {
// The store whose batch the current thread is running (reads and writes then use the writer
// connection, which this thread already holds).
thread_local const Store* tl_writing_store = nullptr;
constexpr size_t kMaxBatch = 64;
constexpr auto kLinger = std::chrono::microseconds(200);
constexpr auto kCheckpointPeriod = std::chrono::milliseconds(200);
// Log size (frames of one page) above which a checkpoint pass holds the writer back so that
// the log can start over; 8192 frames of 4 KiB are about 32 MiB.
constexpr int64_t kRestartFrames = 8192;
}  // namespace

Store::Store(const std::filesystem::path& db_file, StoreOptions opts) {
  bool existed = std::filesystem::exists(db_file);
  db_ = std::make_unique<Sqlite>(db_file.string());
  if (!existed) ::chmod(db_file.c_str(), 0600);
  db_->exec("PRAGMA journal_mode=WAL;");
  db_->exec(opts.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
  db_->exec("PRAGMA foreign_keys=ON;");
  // Checkpoints run on a thread of their own (below), not inside a committing call.
  db_->exec("PRAGMA wal_autocheckpoint=0;");
  // The default 2 MB page cache misses once the tables grow; random B-tree pages are the norm
  // here (keys are looked up by hash).
  db_->exec("PRAGMA cache_size=-65536;");
  db_->exec("PRAGMA journal_size_limit=67108864;");
  migrate();
  rdb_ = std::make_unique<Sqlite>(db_file.string());
  rdb_->exec("PRAGMA cache_size=-32768;");
  checkpointer_ = std::thread(&Store::checkpoint_loop, this, db_file, opts.synchronous_full);
  writer_thread_ = std::thread(&Store::write_loop, this);
}

Store::~Store() {
  {
    std::lock_guard lock(queue_mu_);
    writer_stopping_ = true;
  }
  queue_cv_.notify_one();
  writer_thread_.join();
  {
    std::lock_guard lock(ckpt_mu_);
    stopping_ = true;
  }
  ckpt_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

namespace {
// Runs a PASSIVE checkpoint; returns the number of frames in the log.
int64_t passive_checkpoint(Sqlite& c) {
  Sqlite::Stmt s = c.prepare("PRAGMA wal_checkpoint(PASSIVE);");
  if (sqlite3_step(s) != SQLITE_ROW) throw std::runtime_error(std::string("sqlite: ") + c.errmsg());
  return sqlite3_column_int64(s, 1);
}
}  // namespace

void Store::checkpoint_loop(std::filesystem::path db_file, bool sync_full) {
  pthread_setname_np(pthread_self(), "store-ckpt");
  std::unique_ptr<Sqlite> c;
  try {
    c = std::make_unique<Sqlite>(db_file.string());
    c->exec(sync_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
  } catch (const std::exception&) {
    return;  // the writer connection still works; the WAL is checkpointed when it closes
  }
  std::unique_lock lock(ckpt_mu_);
  while (!stopping_) {
    ckpt_cv_.wait_for(lock, kCheckpointPeriod, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    // PASSIVE never waits for, nor blocks, readers and the writer.
    try {
      if (passive_checkpoint(*c) > kRestartFrames) {
        // Under steady load the writer appends while a pass runs, so the log is never fully
        // copied and would only grow. Copy the rest while no batch commits: the next batch then
        // starts writing the log from its beginning again.
        std::lock_guard writer(mu_);
        passive_checkpoint(*c);
      }
    } catch (const std::exception&) {
      // Try again next period.
    }
    lock.lock();
  }
}

void Store::migrate() {
  // user_version is read again under the write lock: another process may be opening the
  // same directory.
  db_->exec("BEGIN IMMEDIATE;");
  try {
    int64_t version = db_->query_int("PRAGMA user_version;");
    if (version == 0) {
      db_->exec(kSchemaV0);
      db_->exec(kMigrateV1);
      // Sealed answers still inside their grace window move to recent_answers.
      struct Moved {
        std::string token_hash, sealed;
        int64_t consumed_at;
      };
      std::vector<Moved> moved;
      {
        Sqlite::Stmt s = db_->prepare(
            "SELECT token_hash, consumed_at, sealed_answer FROM refresh_tokens "
            "WHERE sealed_answer IS NOT NULL ORDER BY consumed_at");
        while (sqlite3_step(s) == SQLITE_ROW)
          moved.push_back({col_blob(s, 0), col_blob(s, 2), sqlite3_column_int64(s, 1)});
      }
      for (const auto& m : moved) {
        Sqlite::Stmt s = db_->prepare("INSERT INTO recent_answers(consumed_at, sealed) VALUES(?,?)");
        Binder{s}.int64(m.consumed_at).blob(m.sealed);
        STEP_DONE(s);
        s = db_->prepare(
            "UPDATE refresh_tokens SET answer_id = ?, sealed_answer = NULL WHERE token_hash = ?");
        Binder{s}.int64(sqlite3_last_insert_rowid(db_->handle())).blob(m.token_hash);
        STEP_DONE(s);
      }
      db_->exec("DROP INDEX IF EXISTS refresh_sealed; DROP INDEX IF EXISTS keys_family; "
                "PRAGMA user_version = 1;");
      version = 1;
    }
    if (version == 1) {
      db_->exec(kMigrateV2);
    } else if (version > 2) {
      throw std::runtime_error("the database was written by a newer momento-auth-server (schema " +
                               std::to_string(version) + ")");
    }
  } catch (...) {
    try {
      db_->exec("ROLLBACK;");
    } catch (...) {
    }
    throw;
  }
  db_->exec("COMMIT;");
}

bool Store::in_transaction() const { return tl_writing_store == this; }

int64_t Store::read_data_version() { return db_->query_int("PRAGMA data_version;"); }

Store::Generation Store::generation() {
  Generation g;
  g.local = local_generation_.load();
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    // A batch holds the writer. While it holds SQLite's write lock, nobody else can commit, so
    // the value it read after BEGIN IMMEDIATE is current.
    int64_t v = locked_data_version_.load();
    if (v >= 0) {
      g.data_version = v;
      return g;
    }
    lock.lock();
  }
  g.data_version = read_data_version();
  return g;
}

void Store::transaction(const std::function<void()>& f) {
  if (in_transaction()) {  // nested: part of the enclosing closure
    f();
    return;
  }
  auto me = std::make_shared<Pending>();
  me->f = &f;
  std::unique_lock lock(queue_mu_);
  if (writer_stopping_) throw std::runtime_error("the store is closing");
  if (writer_ == Writer::None) {
    // Nobody writes: commit on this thread, with no hand-off to wait for.
    writer_ = Writer::Caller;
    lock.unlock();
    run_batch({me});
    lock.lock();
    // Calls that queued meanwhile go to the writer thread.
    writer_ = queue_.empty() ? Writer::None : Writer::Thread;
    if (writer_ == Writer::Thread) queue_cv_.notify_one();
  } else {
    queue_.push_back(me);
    if (writer_lingering_) queue_cv_.notify_one();
    lock.unlock();
    std::unique_lock done(me->mu);
    me->cv.wait(done, [&] { return me->done; });
  }
  if (me->error) std::rethrow_exception(me->error);
}

void Store::write_loop() {
  pthread_setname_np(pthread_self(), "store-writer");
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return writer_stopping_ || writer_ == Writer::Thread; });
    if (writer_ != Writer::Thread) return;  // stopping, and nothing was handed over
    // Batches back to back until the queue is empty; calls arriving meanwhile queue up.
    while (!queue_.empty()) {
      std::vector<std::shared_ptr<Pending>> batch;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      run_batch(batch);
      for (auto& p : batch) {
        {
          std::lock_guard done(p->mu);
          p->done = true;
        }
        p->cv.notify_one();
      }
      lock.lock();
      // Under load the next calls are moments away: wait briefly for them rather than hand the
      // role back and have the next caller commit alone.
      if (queue_.empty()) {
        writer_lingering_ = true;
        queue_cv_.wait_for(lock, kLinger, [&] { return writer_stopping_ || !queue_.empty(); });
        writer_lingering_ = false;
      }
    }
    writer_ = Writer::None;
  }
}

void Store::run_batch(const std::vector<std::shared_ptr<Pending>>& batch) {
  std::lock_guard lock(mu_);
  struct Writing {
    explicit Writing(const Store* s) { tl_writing_store = s; }
    ~Writing() { tl_writing_store = nullptr; }
  } writing(this);
  auto fail_all = [&](std::exception_ptr e) {
    for (auto& p : batch)
      if (!p->error) p->error = e;
  };
  revoked_in_batch_ = false;
  try {
    db_->run("BEGIN IMMEDIATE;");
  } catch (...) {
    fail_all(std::current_exception());
    return;
  }
  try {
    locked_data_version_.store(read_data_version());
  } catch (...) {
  }
  bool broken = false;  // a savepoint could not be rolled back: give up the whole batch
  if (batch.size() == 1) {
    try {
      (*batch[0]->f)();
    } catch (...) {
      batch[0]->error = std::current_exception();
      broken = true;
    }
  } else {
    for (auto& p : batch) {
      try {
        db_->run("SAVEPOINT closure;");
      } catch (...) {
        p->error = std::current_exception();
        broken = true;
        break;
      }
      try {
        (*p->f)();
        db_->run("RELEASE closure;");
      } catch (...) {
        p->error = std::current_exception();
        try {
          db_->run("ROLLBACK TO closure;");
          db_->run("RELEASE closure;");
        } catch (...) {
          broken = true;
          break;
        }
      }
    }
  }
  if (broken) {
    locked_data_version_.store(-1);
    try {
      db_->run("ROLLBACK;");
    } catch (...) {
    }
    fail_all(std::make_exception_ptr(std::runtime_error("transaction batch rolled back")));
  } else {
    try {
      db_->run("COMMIT;");
      // The write lock is held until COMMIT returns: the value stays current until then.
      locked_data_version_.store(-1);
    } catch (...) {
      locked_data_version_.store(-1);
      auto e = std::current_exception();
      try {
        db_->run("ROLLBACK;");
      } catch (...) {
      }
      fail_all(e);
    }
  }
  // Bumped after the COMMIT and before anyone is answered: a principal read before the
  // revocation was committed carries the old generation.
  if (revoked_in_batch_) local_generation_.fetch_add(1);
}


// Inside a batch: the writer connection (already held). Outside: the reader connection.
struct Store::Reader {
  std::unique_lock<std::mutex> lock;
  Sqlite* db;
};
Store::Reader Store::reader() {
  if (in_transaction()) return {std::unique_lock<std::mutex>(), db_.get()};
  return {std::unique_lock<std::mutex>(read_mu_), rdb_.get()};
}

std::optional<KeyRecord> Store::find_key(std::string_view key_hash) {
  Reader r = reader();
  Sqlite::Stmt s = r.db->prepare(std::string("SELECT ") + kKeyCols + " FROM keys WHERE key_hash = ?");
  Binder{s}.blob(key_hash);
  if (sqlite3_step(s) == SQLITE_ROW) return read_key(s);
  return std::nullopt;
}

std::optional<KeyRecord> Store::find_key_by_id(std::string_view key_id) {
  Reader r = reader();
  if (key_id.empty()) return std::nullopt;
  Sqlite::Stmt s = r.db->prepare(std::string("SELECT ") + kKeyCols + " FROM keys");
  std::optional<KeyRecord> found;
  while (sqlite3_step(s) == SQLITE_ROW) {
    KeyRecord k = read_key(s);
    if (hex(k.key_hash).rfind(key_id, 0) == 0) {
      if (found) return std::nullopt;  // ambiguous prefix
      found = std::move(k);
    }
  }
  return found;
}

void Store::insert_key(const KeyRecord& k) {
  if (!in_transaction()) return transaction([&] { insert_key(k); });
  Sqlite::Stmt s = db_->prepare(std::string("INSERT INTO keys(") + kKeyCols +
                         ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Binder b{s};
  b.blob(k.key_hash).text(key_class_name(k.cls)).blob(k.permissions).int64(k.created_at);
  b.int64(k.valid_until).int64(k.lifetime).text(k.endpoint).text(k.token_id).text(k.description);
  if (k.family_id.empty()) sqlite3_bind_null(s, b.i++);
  else b.text(k.family_id);
  b.blob(k.refresh_hash).text(k.kid).int64(k.revoked).int64(k.bootstrap);
  if (k.refresh_id == 0) sqlite3_bind_null(s, b.i++);
  else b.int64(k.refresh_id);
  STEP_DONE(s);
}

bool Store::revoke_key(std::string_view key_hash) {
  if (!in_transaction()) {
    bool result{};
    transaction([&] { result = revoke_key(key_hash); });
    return result;
  }
  Sqlite::Stmt s = db_->prepare("UPDATE keys SET revoked = 1 WHERE key_hash = ?");
  Binder{s}.blob(key_hash);
  STEP_DONE(s);
  revoked_in_batch_ = true;
  return db_->changes() > 0;
}

std::vector<KeyRecord> Store::list_keys() {
  Reader r = reader();
  // The refresh token a key holds: the unconsumed one issued with it (keys.refresh_hash is
  // written at minting only).
  std::unordered_map<std::string, std::string> current;
  {
    Sqlite::Stmt s = r.db->prepare("SELECT key_hash, token_hash FROM refresh_tokens WHERE consumed_at = 0");
    while (sqlite3_step(s) == SQLITE_ROW) current[col_blob(s, 0)] = col_blob(s, 1);
  }
  Sqlite::Stmt s = r.db->prepare(std::string("SELECT ") + kKeyCols + " FROM keys ORDER BY created_at, key_hash");
  std::vector<KeyRecord> out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    out.push_back(read_key(s));
    auto it = current.find(out.back().key_hash);
    out.back().refresh_hash = it == current.end() ? std::string() : it->second;
  }
  return out;
}

std::optional<KeyRecord> Store::find_bootstrap_key() {
  Reader r = reader();
  Sqlite::Stmt s = r.db->prepare(std::string("SELECT ") + kKeyCols +
                         " FROM keys WHERE bootstrap = 1 AND revoked = 0 ORDER BY created_at DESC LIMIT 1");
  if (sqlite3_step(s) == SQLITE_ROW) return read_key(s);
  return std::nullopt;
}

void Store::insert_family(const FamilyRecord& f) {
  if (!in_transaction()) return transaction([&] { insert_family(f); });
  Sqlite::Stmt s = db_->prepare(
      "INSERT INTO families(family_id, created_at, revoked, revoked_reason) VALUES(?,?,?,?)");
  Binder{s}.text(f.family_id).int64(f.created_at).int64(f.revoked).text(f.revoked_reason);
  STEP_DONE(s);
}

std::optional<FamilyRecord> Store::find_family(std::string_view id) {
  Reader r = reader();
  Sqlite::Stmt s = r.db->prepare(
      "SELECT family_id, created_at, revoked, revoked_reason FROM families WHERE family_id = ?");
  Binder{s}.text(id);
  if (sqlite3_step(s) != SQLITE_ROW) return std::nullopt;
  FamilyRecord f;
  f.family_id = col_text(s, 0);
  f.created_at = sqlite3_column_int64(s, 1);
  f.revoked = sqlite3_column_int(s, 2) != 0;
  f.revoked_reason = col_text(s, 3);
  return f;
}

bool Store::revoke_family(std::string_view id, std::string_view reason) {
  if (!in_transaction()) {
    bool result{};
    transaction([&] { result = revoke_family(id, reason); });
    return result;
  }
  Sqlite::Stmt s = db_->prepare("UPDATE families SET revoked = 1, revoked_reason = ? WHERE family_id = ?");
  Binder{s}.text(reason).text(id);
  STEP_DONE(s);
  if (db_->changes() == 0) return false;
  revoked_in_batch_ = true;
  // Every key of a family was issued together with one of its refresh tokens.
  s = db_->prepare(
      "UPDATE keys SET revoked = 1 WHERE key_hash IN "
      "(SELECT key_hash FROM refresh_tokens WHERE family_id = ?)");
  Binder{s}.text(id);
  STEP_DONE(s);
  // Sealed answers would let a replay recover a successor; drop them.
  s = db_->prepare(
      "DELETE FROM recent_answers WHERE id IN "
      "(SELECT answer_id FROM refresh_tokens WHERE family_id = ? AND answer_id IS NOT NULL)");
  Binder{s}.text(id);
  STEP_DONE(s);
  return true;
}

int64_t Store::insert_refresh(const RefreshRecord& r) {
  if (!in_transaction()) {
    int64_t id = 0;
    transaction([&] { id = insert_refresh(r); });
    return id;
  }
  Sqlite::Stmt s = db_->prepare(
      "INSERT INTO refresh_tokens(token_hash, family_id, key_hash, issued_at, consumed_at) "
      "VALUES(?,?,?,?,?)");
  Binder{s}.blob(r.token_hash).text(r.family_id).blob(r.key_hash).int64(r.issued_at)
      .int64(r.consumed_at);
  STEP_DONE(s);
  return sqlite3_last_insert_rowid(db_->handle());
}

std::optional<RefreshRecord> Store::find_refresh(int64_t id) {
  Reader r = reader();
  Sqlite::Stmt s = r.db->prepare(
      "SELECT r.id, r.token_hash, r.family_id, r.key_hash, r.issued_at, r.consumed_at, "
      "r.successor_id, a.sealed FROM refresh_tokens r "
      "LEFT JOIN recent_answers a ON a.id = r.answer_id WHERE r.id = ?");
  Binder{s}.int64(id);
  if (sqlite3_step(s) == SQLITE_ROW) return read_refresh(s);
  return std::nullopt;
}

void Store::consume_refresh(int64_t id, int64_t at, int64_t successor_id,
                            std::string_view sealed) {
  if (!in_transaction()) return transaction([&] { consume_refresh(id, at, successor_id, sealed); });
  // Appended: consecutive refreshes share the last page of recent_answers.
  Sqlite::Stmt s = db_->prepare("INSERT INTO recent_answers(consumed_at, sealed) VALUES(?,?)");
  Binder{s}.int64(at).blob(sealed);
  STEP_DONE(s);
  const int64_t answer_id = sqlite3_last_insert_rowid(db_->handle());
  s = db_->prepare(
      "UPDATE refresh_tokens SET consumed_at = ?, successor_id = ?, answer_id = ? WHERE id = ?");
  Binder{s}.int64(at).int64(successor_id).int64(answer_id).int64(id);
  STEP_DONE(s);
}

void Store::forget_sealed_before(int64_t before) {
  if (!in_transaction()) return transaction([&] { forget_sealed_before(before); });
  // Trimmed from the front, up to the first answer that is still recent (ids follow commit
  // order, so this reads only the rows it deletes).
  Sqlite::Stmt s = db_->prepare(
      "DELETE FROM recent_answers WHERE id < COALESCE("
      "(SELECT id FROM recent_answers WHERE consumed_at >= ?1 ORDER BY id LIMIT 1), "
      "(SELECT COALESCE(MAX(id), 0) + 1 FROM recent_answers))");
  Binder{s}.int64(before);
  STEP_DONE(s);
}

bool Store::insert_cache(const CacheRecord& c) {
  if (!in_transaction()) {
    bool result{};
    transaction([&] { result = insert_cache(c); });
    return result;
  }
  Sqlite::Stmt s = db_->prepare("INSERT OR IGNORE INTO caches(name, created_at) VALUES(?,?)");
  Binder{s}.text(c.name).int64(c.created_at);
  STEP_DONE(s);
  return db_->changes() > 0;
}

bool Store::delete_cache(std::string_view name) {
  if (!in_transaction()) {
    bool result{};
    transaction([&] { result = delete_cache(name); });
    return result;
  }
  Sqlite::Stmt s = db_->prepare("DELETE FROM caches WHERE name = ?");
  Binder{s}.text(name);
  STEP_DONE(s);
  return db_->changes() > 0;
}

bool Store::cache_exists(std::string_view name) {
  Reader r = reader();
  Sqlite::Stmt s = r.db->prepare("SELECT 1 FROM caches WHERE name = ?");
  Binder{s}.text(name);
  return sqlite3_step(s) == SQLITE_ROW;
}

std::vector<CacheRecord> Store::list_caches() {
  Reader r = reader();
  Sqlite::Stmt s = r.db->prepare("SELECT name, created_at FROM caches ORDER BY name");
  std::vector<CacheRecord> out;
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back({col_text(s, 0), sqlite3_column_int64(s, 1)});
  return out;
}

}  // namespace momento::server
