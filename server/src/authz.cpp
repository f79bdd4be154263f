#include "authz.hpp"

#include <variant>

#include "permissionmessages.pb.h"
#include "momento/auth/error.hpp"
#include "momento/auth/scope.hpp"

namespace momento::server {

namespace pm = permission_messages;

std::optional<std::string> validate_permissions(const pm::Permissions& p, ScopeUse use) {
  namespace ma = momento::auth;
  // The server's own limits first: they need no decoding.
  if (p.kind_case() == pm::Permissions::kExplicit) {
    const auto n = static_cast<size_t>(p.explicit_().permissions().size());
    if (n == 0) return "permissions list must not be empty";
    if (n > ma::kMaxPermissionEntries)
      return "at most " + std::to_string(ma::kMaxPermissionEntries) + " permissions are allowed";
  }
  // The structure (kinds and selectors set, names and item keys, defined roles) is core's rule,
  // the one the client's decoder applies too.
  std::optional<ma::PermissionScope> scope;
  try {
    scope = ma::scope_from_proto(p);
  } catch (const ma::Error& e) {
    return std::string(e.what());
  }
  if (scope->is_super_user()) {
    if (use == ScopeUse::DisposableToken) return "disposable tokens cannot have super-user permissions";
    return std::nullopt;
  }
  if (use == ScopeUse::ApiKey) {
    const auto& entries = scope->permissions();
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto* c = std::get_if<ma::CachePermission>(&entries[i]);
      if (c && (c->item.kind == ma::ItemSelector::Kind::Key || c->item.kind == ma::ItemSelector::Kind::KeyPrefix))
        return "permission " + std::to_string(i + 1) + ": API keys cannot restrict cache items";
    }
  }
  return std::nullopt;
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
