#include "authz.hpp"

#include "permissionmessages.pb.h"

namespace momento::server {

namespace pm = permission_messages;

std::optional<size_t> utf8_length(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    for (size_t j = 1; j < len; ++j)
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return std::nullopt;
    i += len;
    ++count;
  }
  return count;
}

std::optional<std::string> validate_cache_name(std::string_view name) {
  if (name.empty()) return "cache name must not be empty";
  if (name.size() > 255) return "cache name must be at most 255 bytes";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7F) return "cache name must not contain control characters";
  if (!utf8_length(name)) return "cache name must be valid UTF-8";
  return std::nullopt;
}

namespace {

std::optional<std::string> check_cache_selector_oneof(bool all, bool has_selector,
                                                      const pm::PermissionsType::CacheSelector& sel,
                                                      const std::string& where) {
  if (all) return std::nullopt;
  if (!has_selector) return where + ": cache selector is not set";
  if (sel.kind_case() != pm::PermissionsType::CacheSelector::kCacheName)
    return where + ": cache selector has no cache name";
  if (sel.cache_name().empty()) return where + ": cache name is empty";
  return std::nullopt;
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
            if (it.key().empty()) return where + ": item key is empty";
            break;
          case pm::PermissionsType::CacheItemSelector::kKeyPrefix:
            if (it.key_prefix().empty()) return where + ": item key prefix is empty";
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
        return s.topic_name().empty() ? std::optional(where + ": topic name is empty") : std::nullopt;
      if (s.kind_case() == pm::PermissionsType::TopicSelector::kTopicNamePrefix)
        return s.topic_name_prefix().empty() ? std::optional(where + ": topic name prefix is empty")
                                             : std::nullopt;
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
        return s.function_name().empty() ? std::optional(where + ": function name is empty")
                                         : std::nullopt;
      if (s.kind_case() == pm::PermissionsType::FunctionSelector::kFunctionNamePrefix)
        return s.function_name_prefix().empty()
                   ? std::optional(where + ": function name prefix is empty")
                   : std::nullopt;
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
