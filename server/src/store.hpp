// Durable server state in SQLite (WAL): keys, refresh-token families, caches' metadata.
// Secrets are never stored in plaintext: keys and refresh tokens are looked up by SHA-256.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
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
  std::string refresh_hash;  // SHA-256 of the refresh token currently held; empty if none
  std::string kid;           // signing key; empty for seeded (non-JWT) keys
  bool revoked = false;
  bool bootstrap = false;

  // Short public id for admin listings: first 16 hex digits of the hash.
  std::string key_id() const;
};

struct RefreshRecord {
  std::string token_hash;
  std::string family_id;
  std::string key_hash;  // key issued together with this token
  int64_t issued_at = 0;
  int64_t consumed_at = 0;  // 0 while current
  std::string successor_hash;
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

class Store {
 public:
  explicit Store(const std::filesystem::path& db_file, StoreOptions opts = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs f inside BEGIN IMMEDIATE ... COMMIT (rolled back if f throws). Calls from several
  // threads are serialized; nested calls are not allowed.
  void transaction(const std::function<void()>& f);

  // The methods below may be called inside or outside transaction().
  std::optional<KeyRecord> find_key(std::string_view key_hash);
  std::optional<KeyRecord> find_key_by_id(std::string_view key_id_prefix);
  void insert_key(const KeyRecord& k);
  void set_key_refresh_hash(std::string_view key_hash, std::string_view refresh_hash);
  bool revoke_key(std::string_view key_hash);
  std::vector<KeyRecord> list_keys();
  std::optional<KeyRecord> find_bootstrap_key();

  void insert_family(const FamilyRecord& f);
  std::optional<FamilyRecord> find_family(std::string_view family_id);
  // Marks the family revoked, and every key and refresh token in it; returns false if unknown.
  bool revoke_family(std::string_view family_id, std::string_view reason);

  void insert_refresh(const RefreshRecord& r);
  std::optional<RefreshRecord> find_refresh(std::string_view token_hash);
  void consume_refresh(std::string_view token_hash, int64_t at, std::string_view successor_hash,
                       std::string_view sealed_answer);
  // Drops sealed answers older than `before` (they are only needed inside the grace window).
  void forget_sealed_before(int64_t before);

  bool insert_cache(const CacheRecord& c);  // false if it already exists
  bool delete_cache(std::string_view name);  // false if unknown
  bool cache_exists(std::string_view name);
  std::vector<CacheRecord> list_caches();

 private:
  std::recursive_mutex mu_;
  std::unique_ptr<Sqlite> db_;
};

}  // namespace momento::server
