// Permission scopes (docs/wire.md §7) and their Permissions encoding.
#include "momento/auth/scope.hpp"

#include <string>

#include "../util/encoding.hpp"
#include "momento/auth/error.hpp"
#include "permissionmessages.pb.h"

namespace momento::auth {

namespace pm = permission_messages;
using PT = pm::PermissionsType;

PermissionScope PermissionScope::all_data_read_write() {
  // docs/wire.md §7.3: cache, topic, function — in this order (JS SDK definition).
  return of({
      CachePermission{CacheRole::ReadWrite, CacheSelector::all_caches(), ItemSelector::unset()},
      TopicPermission{TopicRole::PublishSubscribe, CacheSelector::all_caches(), NameSelector::all()},
      FunctionPermission{FunctionRole::Invoke, CacheSelector::all_caches(), NameSelector::all()},
  });
}

PermissionScope PermissionScope::all_data_read_only() {
  return of({
      CachePermission{CacheRole::ReadOnly, CacheSelector::all_caches(), ItemSelector::unset()},
      TopicPermission{TopicRole::SubscribeOnly, CacheSelector::all_caches(), NameSelector::all()},
  });
}

const char* predefined_scope_name(PredefinedScope which) noexcept {
  switch (which) {
    case PredefinedScope::SuperUser: return "super-user";
    case PredefinedScope::AllDataReadWrite: return "all-data-read-write";
    case PredefinedScope::AllDataReadOnly: return "all-data-read-only";
  }
  return nullptr;
}

std::optional<PredefinedScope> predefined_scope_named(std::string_view name) noexcept {
  for (auto which : kPredefinedScopes)
    if (name == predefined_scope_name(which)) return which;
  return std::nullopt;
}

PermissionScope predefined_scope(PredefinedScope which) {
  switch (which) {
    case PredefinedScope::SuperUser: return PermissionScope::super_user();
    case PredefinedScope::AllDataReadWrite: return PermissionScope::all_data_read_write();
    case PredefinedScope::AllDataReadOnly: return PermissionScope::all_data_read_only();
  }
  throw_invalid("unknown predefined scope " + std::to_string(static_cast<int>(which)));
}

std::optional<std::string> name_problem(std::string_view name, std::string_view what) {
  std::string w(what);
  if (name.empty()) return w + " must not be empty";
  if (name.size() > kMaxNameBytes) return w + " must be at most 255 bytes";
  if (!detail::is_valid_utf8(name)) return w + " must be valid UTF-8";
  if (detail::has_control_characters(name)) return w + " must not contain control characters";
  return std::nullopt;
}

std::optional<std::string> item_key_problem(std::string_view key, std::string_view what) {
  if (detail::is_blank(key)) return std::string(what) + " cannot be empty or whitespace";
  if (key.size() > kMaxItemKeyBytes) return std::string(what) + " must be at most 64 KiB";
  return std::nullopt;
}

namespace {

std::string entry_label(size_t i) { return "permission " + std::to_string(i + 1); }

void check_name(std::string_view name, size_t i, std::string_view what) {
  if (auto problem = name_problem(name, what)) throw_invalid(entry_label(i) + ": " + *problem);
}

void check_item_key(std::string_view key, size_t i, const char* what) {
  if (key.size() > kMaxItemKeyBytes) {
    throw_invalid(entry_label(i) + ": " + what + " must be at most 64 KiB");
  }
}

void check_cache_selector(const CacheSelector& c, size_t i) {
  if (!c.all && detail::is_blank(c.name)) {
    throw_invalid(entry_label(i) + ": cache name cannot be empty or whitespace");
  }
  if (!c.all) check_name(c.name, i, "cache name");
}

void check_name_selector(const NameSelector& s, size_t i, const char* what) {
  switch (s.kind) {
    case NameSelector::Kind::All:
      return;
    case NameSelector::Kind::Name:
      if (detail::is_blank(s.value)) {
        throw_invalid(entry_label(i) + ": " + what + " name cannot be empty or whitespace");
      }
      check_name(s.value, i, std::string(what) + " name");
      return;
    case NameSelector::Kind::Prefix:
      if (detail::is_blank(s.value)) {
        throw_invalid(entry_label(i) + ": " + what + " name prefix cannot be empty or whitespace");
      }
      check_name(s.value, i, std::string(what) + " name prefix");
      return;
  }
  throw_invalid(entry_label(i) + ": unknown " + what + " selector kind");
}

void check_entry(const CachePermission& p, size_t i, ScopeUse use) {
  int role = static_cast<int>(p.role);
  if (role < 0 || role > 3) throw_invalid(entry_label(i) + ": unknown cache role " + std::to_string(role));
  check_cache_selector(p.cache, i);
  switch (p.item.kind) {
    case ItemSelector::Kind::Unset:
      return;
    case ItemSelector::Kind::All:
    case ItemSelector::Kind::Key:
    case ItemSelector::Kind::KeyPrefix:
      break;
    default:
      throw_invalid(entry_label(i) + ": unknown item selector kind");
  }
  if (use == ScopeUse::ApiKey) {
    throw_invalid(entry_label(i) +
                  ": item restrictions (all items, key, key prefix) are only allowed for "
                  "disposable tokens");
  }
  if (p.item.kind == ItemSelector::Kind::All) return;
  const char* what = p.item.kind == ItemSelector::Kind::Key ? "item key" : "item key prefix";
  if (auto problem = item_key_problem(p.item.bytes, what)) throw_invalid(entry_label(i) + ": " + *problem);
}

void check_entry(const TopicPermission& p, size_t i, ScopeUse) {
  int role = static_cast<int>(p.role);
  if (role < 0 || role > 3) throw_invalid(entry_label(i) + ": unknown topic role " + std::to_string(role));
  check_cache_selector(p.cache, i);
  check_name_selector(p.topic, i, "topic");
}

void check_entry(const FunctionPermission& p, size_t i, ScopeUse) {
  int role = static_cast<int>(p.role);
  if (role < 0 || role > 1) {
    throw_invalid(entry_label(i) + ": unknown function role " + std::to_string(role));
  }
  check_cache_selector(p.cache, i);
  check_name_selector(p.function, i, "function");
}

template <typename Msg>
void write_cache_selector(const CacheSelector& c, Msg* m) {
  if (c.all) {
    m->mutable_all_caches();
  } else {
    m->mutable_cache_selector()->set_cache_name(c.name);
  }
}

void write_entry(const CachePermission& p, PT* out) {
  auto* m = out->mutable_cache_permissions();
  m->set_role(static_cast<pm::CacheRole>(static_cast<int>(p.role)));
  write_cache_selector(p.cache, m);
  switch (p.item.kind) {
    case ItemSelector::Kind::Unset:
      break;  // oneof left unset: all items
    case ItemSelector::Kind::All:
      m->mutable_all_items();
      break;
    case ItemSelector::Kind::Key:
      m->mutable_item_selector()->set_key(p.item.bytes);
      break;
    case ItemSelector::Kind::KeyPrefix:
      m->mutable_item_selector()->set_key_prefix(p.item.bytes);
      break;
  }
}

void write_entry(const TopicPermission& p, PT* out) {
  auto* m = out->mutable_topic_permissions();
  // PublishSubscribe/SubscribeOnly/PublishOnly share their numbers with TopicReadWrite/…ReadOnly/…WriteOnly.
  m->set_role(static_cast<pm::TopicRole>(static_cast<int>(p.role)));
  write_cache_selector(p.cache, m);
  switch (p.topic.kind) {
    case NameSelector::Kind::All: m->mutable_all_topics(); break;
    case NameSelector::Kind::Name: m->mutable_topic_selector()->set_topic_name(p.topic.value); break;
    case NameSelector::Kind::Prefix:
      m->mutable_topic_selector()->set_topic_name_prefix(p.topic.value);
      break;
  }
}

void write_entry(const FunctionPermission& p, PT* out) {
  auto* m = out->mutable_function_permissions();
  m->set_role(static_cast<pm::FunctionRole>(static_cast<int>(p.role)));
  write_cache_selector(p.cache, m);
  switch (p.function.kind) {
    case NameSelector::Kind::All: m->mutable_all_functions(); break;
    case NameSelector::Kind::Name:
      m->mutable_function_selector()->set_function_name(p.function.value);
      break;
    case NameSelector::Kind::Prefix:
      m->mutable_function_selector()->set_function_name_prefix(p.function.value);
      break;
  }
}

// --- decoding (server side, docs/wire.md §9.3 "both" row) ---

template <typename Msg>
CacheSelector read_cache_selector(const Msg& m, size_t i) {
  switch (m.cache_case()) {
    case Msg::kAllCaches:
      return CacheSelector::all_caches();
    case Msg::kCacheSelector:
      if (m.cache_selector().kind_case() != PT::CacheSelector::kCacheName) {
        throw_invalid(entry_label(i) + ": cache selector is empty");
      }
      if (m.cache_selector().cache_name().empty()) {
        throw_invalid(entry_label(i) + ": cache name cannot be empty");
      }
      check_name(m.cache_selector().cache_name(), i, "cache name");
      return CacheSelector::named(m.cache_selector().cache_name());
    default:
      throw_invalid(entry_label(i) + ": cache selector is not set");
  }
}

CachePermission read_entry(const PT::CachePermissions& m, size_t i) {
  if (!pm::CacheRole_IsValid(m.role())) {
    throw_invalid(entry_label(i) + ": undefined cache role " + std::to_string(m.role()));
  }
  CachePermission p;
  p.role = static_cast<CacheRole>(m.role());
  p.cache = read_cache_selector(m, i);
  switch (m.cache_item_case()) {
    case PT::CachePermissions::CACHE_ITEM_NOT_SET:
      p.item = ItemSelector::unset();
      break;
    case PT::CachePermissions::kAllItems:
      p.item = ItemSelector::all_items();
      break;
    case PT::CachePermissions::kItemSelector: {
      const auto& s = m.item_selector();
      if (s.kind_case() == PT::CacheItemSelector::kKey) {
        if (s.key().empty()) throw_invalid(entry_label(i) + ": item key cannot be empty");
        check_item_key(s.key(), i, "item key");
        p.item = ItemSelector::key(s.key());
      } else if (s.kind_case() == PT::CacheItemSelector::kKeyPrefix) {
        if (s.key_prefix().empty()) throw_invalid(entry_label(i) + ": item key prefix cannot be empty");
        check_item_key(s.key_prefix(), i, "item key prefix");
        p.item = ItemSelector::key_prefix(s.key_prefix());
      } else {
        throw_invalid(entry_label(i) + ": item selector is empty");
      }
      break;
    }
  }
  return p;
}

TopicPermission read_entry(const PT::TopicPermissions& m, size_t i) {
  if (!pm::TopicRole_IsValid(m.role())) {
    throw_invalid(entry_label(i) + ": undefined topic role " + std::to_string(m.role()));
  }
  TopicPermission p;
  p.role = static_cast<TopicRole>(m.role());
  p.cache = read_cache_selector(m, i);
  switch (m.topic_case()) {
    case PT::TopicPermissions::kAllTopics:
      p.topic = NameSelector::all();
      break;
    case PT::TopicPermissions::kTopicSelector: {
      const auto& s = m.topic_selector();
      if (s.kind_case() == PT::TopicSelector::kTopicName) {
        if (s.topic_name().empty()) throw_invalid(entry_label(i) + ": topic name cannot be empty");
        check_name(s.topic_name(), i, "topic name");
        p.topic = NameSelector::named(s.topic_name());
      } else if (s.kind_case() == PT::TopicSelector::kTopicNamePrefix) {
        if (s.topic_name_prefix().empty()) {
          throw_invalid(entry_label(i) + ": topic name prefix cannot be empty");
        }
        check_name(s.topic_name_prefix(), i, "topic name prefix");
        p.topic = NameSelector::prefix(s.topic_name_prefix());
      } else {
        throw_invalid(entry_label(i) + ": topic selector is empty");
      }
      break;
    }
    default:
      throw_invalid(entry_label(i) + ": topic selector is not set");
  }
  return p;
}

FunctionPermission read_entry(const PT::FunctionPermissions& m, size_t i) {
  if (!pm::FunctionRole_IsValid(m.role())) {
    throw_invalid(entry_label(i) + ": undefined function role " + std::to_string(m.role()));
  }
  FunctionPermission p;
  p.role = static_cast<FunctionRole>(m.role());
  p.cache = read_cache_selector(m, i);
  switch (m.function_case()) {
    case PT::FunctionPermissions::kAllFunctions:
      p.function = NameSelector::all();
      break;
    case PT::FunctionPermissions::kFunctionSelector: {
      const auto& s = m.function_selector();
      if (s.kind_case() == PT::FunctionSelector::kFunctionName) {
        if (s.function_name().empty()) {
          throw_invalid(entry_label(i) + ": function name cannot be empty");
        }
        check_name(s.function_name(), i, "function name");
        p.function = NameSelector::named(s.function_name());
      } else if (s.kind_case() == PT::FunctionSelector::kFunctionNamePrefix) {
        if (s.function_name_prefix().empty()) {
          throw_invalid(entry_label(i) + ": function name prefix cannot be empty");
        }
        check_name(s.function_name_prefix(), i, "function name prefix");
        p.function = NameSelector::prefix(s.function_name_prefix());
      } else {
        throw_invalid(entry_label(i) + ": function selector is empty");
      }
      break;
    }
    default:
      throw_invalid(entry_label(i) + ": function selector is not set");
  }
  return p;
}

}  // namespace

void validate_scope(const PermissionScope& scope, ScopeUse use) {
  if (use != ScopeUse::ApiKey && use != ScopeUse::DisposableToken) {
    throw_invalid("unknown scope use");
  }
  if (scope.is_super_user()) {
    if (use == ScopeUse::DisposableToken) {
      throw_invalid("unrecognized token scope: the super-user scope cannot be used for disposable tokens");
    }
    if (!scope.permissions().empty()) throw_invalid("a super-user scope cannot also list permissions");
    return;
  }
  const auto& entries = scope.permissions();
  if (entries.empty()) throw_invalid("permissions list cannot be empty");
  if (entries.size() > kMaxPermissionEntries) {
    throw_invalid("permissions list has " + std::to_string(entries.size()) +
                  " entries; at most " + std::to_string(kMaxPermissionEntries) + " are allowed");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].valueless_by_exception()) throw_invalid(entry_label(i) + ": empty entry");
    std::visit([&](const auto& p) { check_entry(p, i, use); }, entries[i]);
  }
}

void scope_to_proto(const PermissionScope& scope, ScopeUse use, pm::Permissions* out) {
  if (out == nullptr) throw_invalid("scope_to_proto: output message is null");
  validate_scope(scope, use);
  out->Clear();
  if (scope.is_super_user()) {
    // A oneof member: value 0 is still written (bytes 08 00).
    out->set_super_user(pm::SuperUser);
    return;
  }
  auto* ex = out->mutable_explicit_();
  for (const auto& entry : scope.permissions()) {
    PT* t = ex->add_permissions();
    std::visit([&](const auto& p) { write_entry(p, t); }, entry);
  }
}

PermissionScope scope_from_proto(const pm::Permissions& proto) {
  switch (proto.kind_case()) {
    case pm::Permissions::kSuperUser:
      if (proto.super_user() != pm::SuperUser) {
        throw_invalid("undefined super_user value " + std::to_string(proto.super_user()));
      }
      return PermissionScope::super_user();
    case pm::Permissions::kExplicit: {
      std::vector<Permission> entries;
      const auto& list = proto.explicit_().permissions();
      entries.reserve(static_cast<size_t>(list.size()));
      for (int k = 0; k < list.size(); ++k) {
        size_t i = static_cast<size_t>(k);
        const PT& t = list.Get(k);
        switch (t.kind_case()) {
          case PT::kCachePermissions: entries.emplace_back(read_entry(t.cache_permissions(), i)); break;
          case PT::kTopicPermissions: entries.emplace_back(read_entry(t.topic_permissions(), i)); break;
          case PT::kFunctionPermissions:
            entries.emplace_back(read_entry(t.function_permissions(), i));
            break;
          default:
            throw_invalid(entry_label(i) + ": permission kind is not set");
        }
      }
      return PermissionScope::of(std::move(entries));
    }
    default:
      throw_invalid("permissions kind is not set");
  }
}

}  // namespace momento::auth
