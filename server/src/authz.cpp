#include "authz.hpp"

#include "permissionmessages.pb.h"
#include "momento/auth/scope.hpp"

namespace momento::server {

namespace pm = permission_messages;
using momento::auth::kMaxItemKeyBytes;
using momento::auth::name_problem;

namespace {

// The name rule of core's scope model (momento/auth/scope.hpp), applied to a wire name.
std::optional<std::string> named(std::string_view name, const std::string& where, const char* what) {
  if (auto problem = name_problem(name, what)) return where + ": " + *problem;
  return std::nullopt;
}

std::optional<std::string> item_key(std::string_view key, const std::string& where, const char* what) {
  if (key.empty()) return where + ": " + what + " is empty";
  if (key.size() > kMaxItemKeyBytes) return where + ": " + what + " must be at most 64 KiB";
  return std::nullopt;
}

std::optional<std::string> check_cache_selector_oneof(bool all, bool has_selector,
                                                      const pm::PermissionsType::CacheSelector& sel,
                                                      const std::string& where) {
  if (all) return std::nullopt;
  if (!has_selector) return where + ": cache selector is not set";
  if (sel.kind_case() != pm::PermissionsType::CacheSelector::kCacheName)
    return where + ": cache selector has no cache name";
  if (sel.cache_name().empty()) return where + ": cache name is empty";
  return named(sel.cache_name(), where, "cache name");
}

std::optional<std::string> check_entry(const pm::PermissionsType& e, size_t i, ScopeUse use) {
  std::string where = "permission " + std::to_string(i + 1);
  switch (e.kind_case()) {
    case pm::PermissionsType::kCachePermissions: {
      const auto& c = e.cache_permissions();
      if (!pm::CacheRole_IsValid(c.role())) return where + ": undefined cache role";
      if (auto err = check_cache_selector_oneof(c.has_all_caches(), c.has_cache_selector(),
                                                c.cache_selector(), where))
        return err;
      if (c.has_item_selector()) {
        const auto& it = c.item_selector();
        switch (it.kind_case()) {
          case pm::PermissionsType::CacheItemSelector::kKey:
            if (auto err = item_key(it.key(), where, "item key")) return err;
            break;
          case pm::PermissionsType::CacheItemSelector::kKeyPrefix:
            if (auto err = item_key(it.key_prefix(), where, "item key prefix")) return err;
            break;
          default:
            return where + ": item selector has neither key nor key prefix";
        }
        if (use == ScopeUse::ApiKey) return where + ": API keys cannot restrict cache items";
      }
      return std::nullopt;
    }
    case pm::PermissionsType::kTopicPermissions: {
      const auto& t = e.topic_permissions();
      if (!pm::TopicRole_IsValid(t.role())) return where + ": undefined topic role";
      if (auto err = check_cache_selector_oneof(t.has_all_caches(), t.has_cache_selector(),
                                                t.cache_selector(), where))
        return err;
      if (t.has_all_topics()) return std::nullopt;
      if (!t.has_topic_selector()) return where + ": topic selector is not set";
      const auto& s = t.topic_selector();
      if (s.kind_case() == pm::PermissionsType::TopicSelector::kTopicName)
        return named(s.topic_name(), where, "topic name");
      if (s.kind_case() == pm::PermissionsType::TopicSelector::kTopicNamePrefix)
        return named(s.topic_name_prefix(), where, "topic name prefix");
      return where + ": topic selector has neither name nor prefix";
    }
    case pm::PermissionsType::kFunctionPermissions: {
      const auto& f = e.function_permissions();
      if (!pm::FunctionRole_IsValid(f.role())) return where + ": undefined function role";
      if (auto err = check_cache_selector_oneof(f.has_all_caches(), f.has_cache_selector(),
                                                f.cache_selector(), where))
        return err;
      if (f.has_all_functions()) return std::nullopt;
      if (!f.has_function_selector()) return where + ": function selector is not set";
      const auto& s = f.function_selector();
      if (s.kind_case() == pm::PermissionsType::FunctionSelector::kFunctionName)
        return named(s.function_name(), where, "function name");
      if (s.kind_case() == pm::PermissionsType::FunctionSelector::kFunctionNamePrefix)
        return named(s.function_name_prefix(), where, "function name prefix");
      return where + ": function selector has neither name nor prefix";
    }
    default:
      return where + ": permission kind is not set";
  }
}

}  // namespace

std::optional<std::string> validate_permissions(const pm::Permissions& p, ScopeUse use) {
  switch (p.kind_case()) {
    case pm::Permissions::kSuperUser:
      if (use == ScopeUse::DisposableToken) return "disposable tokens cannot have super-user permissions";
      if (!pm::SuperUserPermissions_IsValid(p.super_user())) return "undefined super-user permission value";
      return std::nullopt;
    case pm::Permissions::kExplicit: {
      const auto& list = p.explicit_().permissions();
      if (list.empty()) return "permissions list must not be empty";
      if (static_cast<size_t>(list.size()) > kMaxEntries)
        return "at most " + std::to_string(kMaxEntries) + " permissions are allowed";
      for (int i = 0; i < list.size(); ++i)
        if (auto err = check_entry(list.Get(i), static_cast<size_t>(i), use)) return err;
      return std::nullopt;
    }
    default:
      return "permissions kind is not set";
  }
}

bool has_super_user(const Caller& c) {
  if (c.anonymous) return true;
  if (c.cls == KeyClass::SuperUser) return true;
  if (c.cls == KeyClass::V2 && c.permissions && c.permissions->has_super_user()) return true;
  return false;
}

namespace {

bool role_grants(pm::CacheRole role, Operation op) {
  switch (role) {
    case pm::CacheReadWrite: return true;
    case pm::CacheReadOnly: return op == Operation::Read;
    case pm::CacheWriteOnly: return op == Operation::Write;
    default: return false;
  }
}

bool cache_entry_matches(const pm::PermissionsType::CachePermissions& c, Operation op,
                         std::string_view cache, std::string_view key) {
  if (!role_grants(c.role(), op)) return false;
  if (!c.has_all_caches()) {
    if (!c.has_cache_selector() ||
        c.cache_selector().kind_case() != pm::PermissionsType::CacheSelector::kCacheName ||
        c.cache_selector().cache_name() != cache)
      return false;
  }
  if (c.has_item_selector()) {
    const auto& it = c.item_selector();
    if (it.kind_case() == pm::PermissionsType::CacheItemSelector::kKey) return it.key() == key;
    if (it.kind_case() == pm::PermissionsType::CacheItemSelector::kKeyPrefix)
      return key.substr(0, it.key_prefix().size()) == it.key_prefix();
    return false;
  }
  return true;  // unset or all_items
}

}  // namespace

bool allowed(const Caller& c, Operation op, std::string_view cache, std::string_view key) {
  const bool su = has_super_user(c);
  const bool session = c.cls == KeyClass::Session;
  const bool legacy = c.cls == KeyClass::Legacy;
  switch (op) {
    case Operation::GenerateSuperUser:
      return session;
    case Operation::GenerateExplicit:
    case Operation::GenerateDisposable:
    case Operation::ManageKeys:
      return session || su;
    case Operation::CreateCache:
    case Operation::DeleteCache:
    case Operation::FlushCache:
      return session || su || legacy;
    case Operation::ListCaches:
      return c.anonymous || c.cls != KeyClass::Disposable;
    case Operation::Read:
    case Operation::Write: {
      if (session || su || legacy) return true;
      if (!c.permissions || !c.permissions->has_explicit_()) return false;
      for (const auto& e : c.permissions->explicit_().permissions())
        if (e.has_cache_permissions() && cache_entry_matches(e.cache_permissions(), op, cache, key))
          return true;
      return false;
    }
  }
  return false;
}

}  // namespace momento::server
