// Permission scopes (docs/wire.md §7) and their mapping to permission_messages.Permissions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace permission_messages { class Permissions; }

namespace momento::auth {

enum class CacheRole { PermitNone = 0, ReadWrite = 1, ReadOnly = 2, WriteOnly = 3 };
enum class TopicRole { PermitNone = 0, PublishSubscribe = 1, SubscribeOnly = 2, PublishOnly = 3 };
enum class FunctionRole { PermitNone = 0, Invoke = 1 };

// Which caches an entry applies to.
struct CacheSelector {
  bool all = true;
  std::string name;  // when !all
  static CacheSelector all_caches() { return {}; }
  static CacheSelector named(std::string n) { return {false, std::move(n)}; }
  bool operator==(const CacheSelector&) const = default;
};

// Topics or functions: all, one name, or a name prefix.
struct NameSelector {
  enum class Kind { All, Name, Prefix };
  Kind kind = Kind::All;
  std::string value;
  static NameSelector all() { return {}; }
  static NameSelector named(std::string n) { return {Kind::Name, std::move(n)}; }
  static NameSelector prefix(std::string p) { return {Kind::Prefix, std::move(p)}; }
  bool operator==(const NameSelector&) const = default;
};

// Item restriction of a cache entry (disposable tokens only). Unset means all items.
struct ItemSelector {
  enum class Kind { Unset, All, Key, KeyPrefix };
  Kind kind = Kind::Unset;
  std::string bytes;  // key or prefix bytes
  static ItemSelector unset() { return {}; }
  static ItemSelector all_items() { return {Kind::All, {}}; }
  static ItemSelector key(std::string k) { return {Kind::Key, std::move(k)}; }
  static ItemSelector key_prefix(std::string p) { return {Kind::KeyPrefix, std::move(p)}; }
  bool operator==(const ItemSelector&) const = default;
};

struct CachePermission {
  CacheRole role = CacheRole::ReadWrite;
  CacheSelector cache;
  ItemSelector item;
  bool operator==(const CachePermission&) const = default;
};

struct TopicPermission {
  TopicRole role = TopicRole::PublishSubscribe;
  CacheSelector cache;
  NameSelector topic;
  bool operator==(const TopicPermission&) const = default;
};

struct FunctionPermission {
  FunctionRole role = FunctionRole::Invoke;
  CacheSelector cache;
  NameSelector function;
  bool operator==(const FunctionPermission&) const = default;
};

using Permission = std::variant<CachePermission, TopicPermission, FunctionPermission>;

// Maximum number of entries in an explicit scope (the service documents "up to ten").
inline constexpr size_t kMaxPermissionEntries = 10;

// Longest token_id of a disposable token, in Unicode code points (docs/wire.md §6, §13 #5).
inline constexpr size_t kMaxTokenIdCodePoints = 64;

// Cache, topic and function names and name prefixes (in scopes, and cache names everywhere):
// 1 to kMaxNameBytes bytes of UTF-8 without control characters. Item keys and key prefixes in
// scopes: at most kMaxItemKeyBytes, the largest cache key.
inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxItemKeyBytes = 64 * 1024;

// What is wrong with a name, starting with `what` ("cache name"); nullopt when it is valid.
std::optional<std::string> name_problem(std::string_view name, std::string_view what);
// What is wrong with an item key or key prefix, `what` naming it ("item key"): empty or only
// whitespace, or longer than kMaxItemKeyBytes; nullopt when it is valid.
std::optional<std::string> item_key_problem(std::string_view key, std::string_view what);

// What a scope is used for: API keys never carry item restrictions; disposable tokens may,
// and can never be super-user.
enum class ScopeUse { ApiKey, DisposableToken };

class PermissionScope {
 public:
  static PermissionScope super_user() { return PermissionScope(true, {}); }
  // cache ReadWrite + topic ReadWrite + function Invoke, all caches/topics/functions (JS order).
  static PermissionScope all_data_read_write();
  // cache ReadOnly + topic ReadOnly on everything (our extension).
  static PermissionScope all_data_read_only();
  static PermissionScope of(std::vector<Permission> entries) {
    return PermissionScope(false, std::move(entries));
  }

  bool is_super_user() const noexcept { return super_user_; }
  const std::vector<Permission>& permissions() const noexcept { return entries_; }
  bool operator==(const PermissionScope&) const = default;

 private:
  PermissionScope(bool su, std::vector<Permission> e) : super_user_(su), entries_(std::move(e)) {}
  bool super_user_ = false;
  std::vector<Permission> entries_;
};

// The predefined scopes, numbered as the C ABI's MOMENTO_SCOPE_*, and their names as the CLI's
// --scope and the server's --class take them.
enum class PredefinedScope { SuperUser = 1, AllDataReadWrite = 2, AllDataReadOnly = 3 };
inline constexpr PredefinedScope kPredefinedScopes[] = {
    PredefinedScope::SuperUser, PredefinedScope::AllDataReadWrite, PredefinedScope::AllDataReadOnly};
// "super-user", "all-data-read-write", "all-data-read-only"; nullptr for a value out of range.
const char* predefined_scope_name(PredefinedScope which) noexcept;
// The predefined scope with this name; nullopt for any other text.
std::optional<PredefinedScope> predefined_scope_named(std::string_view name) noexcept;
PermissionScope predefined_scope(PredefinedScope which);

// Client-side checks (docs/wire.md §7.6): throws Error(InvalidArgument) naming the problem.
void validate_scope(const PermissionScope& scope, ScopeUse use);

// Validates, then writes the Permissions message exactly as docs/wire.md §7 describes.
void scope_to_proto(const PermissionScope& scope, ScopeUse use,
                    permission_messages::Permissions* out);

// Reads a Permissions message, applying the structural checks of docs/wire.md §9.3 (kind unset,
// selector oneofs unset, empty names/keys, undefined roles): throws Error(InvalidArgument).
// Entry-count limits are left to the caller.
PermissionScope scope_from_proto(const permission_messages::Permissions& proto);

}  // namespace momento::auth
