// Lifetimes (ExpiresIn) and permission scope builders.
#include <memory>

#include "internal.hpp"

using namespace momento_capi;

ma::PermissionScope momento_scope::to_core() const {
  if (predefined != 0) return ma::predefined_scope(static_cast<ma::PredefinedScope>(predefined));
  return ma::PermissionScope::of(entries);
}

namespace {

ma::CacheSelector cache_selector(const char *cache_name) {
  if (auto n = opt_str(cache_name, "cache_name")) return ma::CacheSelector::named(std::string(*n));
  return ma::CacheSelector::all_caches();
}

ma::NameSelector name_selector(int32_t select, const char *value, const char *name) {
  need_range(select, MOMENTO_SELECT_ALL, MOMENTO_SELECT_PREFIX, "name selector");
  if (select == MOMENTO_SELECT_ALL) {
    if (value != nullptr) invalid(std::string(name) + " must be NULL with MOMENTO_SELECT_ALL");
    return ma::NameSelector::all();
  }
  std::string v(need_str(value, name, true));
  return select == MOMENTO_SELECT_NAME ? ma::NameSelector::named(std::move(v))
                                       : ma::NameSelector::prefix(std::move(v));
}

// Checks common to every add: a writable explicit scope with room for one more entry.
void check_addable(const momento_scope_t *scope) {
  need_handle(scope, "scope");
  if (scope->predefined != 0) invalid("entries cannot be added to a predefined scope");
  if (scope->entries.size() >= ma::kMaxPermissionEntries)
    invalid("a scope holds at most " + std::to_string(ma::kMaxPermissionEntries) + " entries");
}

momento_status_t add_entry(momento_scope_t *scope, momento_error_t **err, const char *what,
                           auto &&build) {
  return guard(err, what, [&] {
    check_addable(scope);
    ma::Permission p = build();
    scope->entries.push_back(std::move(p));  // strong guarantee: nothing changes on failure
  });
}

}  // namespace

extern "C" {

momento_status_t momento_expires_in_new(momento_expires_in_t **out, int32_t unit, int64_t amount,
                                        momento_error_t **err) {
  return guard(err, "momento_expires_in_new", [&] {
    need_out(out, "out");
    need_range(unit, MOMENTO_EXPIRES_NEVER, MOMENTO_EXPIRES_AT_EPOCH, "expires unit");
    auto make = [&]() -> ma::ExpiresIn {
      switch (unit) {
        case MOMENTO_EXPIRES_NEVER:
          if (amount != 0) invalid("amount must be 0 for MOMENTO_EXPIRES_NEVER");
          return ma::ExpiresIn::never();
        case MOMENTO_EXPIRES_SECONDS: return ma::ExpiresIn::seconds(amount);
        case MOMENTO_EXPIRES_MINUTES: return ma::ExpiresIn::minutes(amount);
        case MOMENTO_EXPIRES_HOURS: return ma::ExpiresIn::hours(amount);
        case MOMENTO_EXPIRES_DAYS: return ma::ExpiresIn::days(amount);
        default: return ma::ExpiresIn::at_epoch(amount);
      }
    };
    *out = new momento_expires_in{make()};
  });
}

void momento_expires_in_free(momento_expires_in_t *expires_in) { delete expires_in; }

int32_t momento_expires_in_does_expire(const momento_expires_in_t *expires_in) {
  return expires_in && expires_in->value.does_expire() ? 1 : 0;
}

uint32_t momento_expires_in_seconds(const momento_expires_in_t *expires_in) {
  return expires_in && expires_in->value.does_expire() ? expires_in->value.valid_for_seconds() : 0;
}

momento_status_t momento_scope_new(momento_scope_t **out, momento_error_t **err) {
  return guard(err, "momento_scope_new", [&] {
    need_out(out, "out");
    *out = new momento_scope{};
  });
}

momento_status_t momento_scope_new_predefined(momento_scope_t **out, int32_t which,
                                              momento_error_t **err) {
  return guard(err, "momento_scope_new_predefined", [&] {
    need_out(out, "out");
    need_range(which, MOMENTO_SCOPE_SUPER_USER, MOMENTO_SCOPE_ALL_DATA_READ_ONLY,
               "predefined scope");
    auto s = std::make_unique<momento_scope>();
    s->predefined = which;
    *out = s.release();
  });
}

void momento_scope_free(momento_scope_t *scope) { delete scope; }

const char *momento_scope_predefined_str(int32_t which) {
  return ma::predefined_scope_name(static_cast<ma::PredefinedScope>(which));
}

int32_t momento_scope_predefined_from_str(const char *name) {
  if (name == nullptr) return 0;
  const auto which = ma::predefined_scope_named(name);
  return which ? static_cast<int32_t>(*which) : 0;
}

momento_status_t momento_scope_add_cache(momento_scope_t *scope, int32_t role,
                                         const char *cache_name, momento_error_t **err) {
  return add_entry(scope, err, "momento_scope_add_cache", [&] {
    need_range(role, MOMENTO_CACHE_PERMIT_NONE, MOMENTO_CACHE_WRITE_ONLY, "cache role");
    ma::CachePermission p;
    p.role = static_cast<ma::CacheRole>(role);
    p.cache = cache_selector(cache_name);
    return ma::Permission(std::move(p));
  });
}

momento_status_t momento_scope_add_topic(momento_scope_t *scope, int32_t role,
                                         const char *cache_name, int32_t topic_select,
                                         const char *topic, momento_error_t **err) {
  return add_entry(scope, err, "momento_scope_add_topic", [&] {
    need_range(role, MOMENTO_TOPIC_PERMIT_NONE, MOMENTO_TOPIC_PUBLISH_ONLY, "topic role");
    ma::TopicPermission p;
    p.role = static_cast<ma::TopicRole>(role);
    p.cache = cache_selector(cache_name);
    p.topic = name_selector(topic_select, topic, "topic");
    return ma::Permission(std::move(p));
  });
}

momento_status_t momento_scope_add_function(momento_scope_t *scope, int32_t role,
                                            const char *cache_name, int32_t function_select,
                                            const char *function, momento_error_t **err) {
  return add_entry(scope, err, "momento_scope_add_function", [&] {
    need_range(role, MOMENTO_FUNCTION_PERMIT_NONE, MOMENTO_FUNCTION_INVOKE, "function role");
    ma::FunctionPermission p;
    p.role = static_cast<ma::FunctionRole>(role);
    p.cache = cache_selector(cache_name);
    p.function = name_selector(function_select, function, "function");
    return ma::Permission(std::move(p));
  });
}

momento_status_t momento_scope_add_cache_items(momento_scope_t *scope, int32_t role,
                                               const char *cache_name, int32_t item_select,
                                               const void *item, size_t item_len,
                                               momento_error_t **err) {
  return add_entry(scope, err, "momento_scope_add_cache_items", [&] {
    need_range(role, MOMENTO_CACHE_PERMIT_NONE, MOMENTO_CACHE_WRITE_ONLY, "cache role");
    need_range(item_select, MOMENTO_ITEMS_ALL, MOMENTO_ITEMS_KEY_PREFIX, "item selector");
    ma::CachePermission p;
    p.role = static_cast<ma::CacheRole>(role);
    p.cache = cache_selector(cache_name);
    if (item_select == MOMENTO_ITEMS_ALL) {
      if (item != nullptr || item_len != 0)
        invalid("item must be NULL and item_len 0 with MOMENTO_ITEMS_ALL");
      p.item = ma::ItemSelector::all_items();
    } else {
      if (item == nullptr) invalid("item must not be NULL");
      std::string bytes(static_cast<const char *>(item), item_len);
      if (auto problem = ma::item_key_problem(
              bytes, item_select == MOMENTO_ITEMS_KEY ? "item key" : "item key prefix"))
        invalid(*problem);
      p.item = item_select == MOMENTO_ITEMS_KEY ? ma::ItemSelector::key(std::move(bytes))
                                                : ma::ItemSelector::key_prefix(std::move(bytes));
    }
    return ma::Permission(std::move(p));
  });
}

size_t momento_scope_entry_count(const momento_scope_t *scope) {
  return scope ? scope->entries.size() : 0;
}

momento_status_t momento_scope_validate(const momento_scope_t *scope, int32_t use,
                                        momento_error_t **err) {
  return guard(err, "momento_scope_validate", [&] {
    need_handle(scope, "scope");
    need_range(use, MOMENTO_SCOPE_USE_API_KEY, MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN, "scope use");
    ma::validate_scope(scope->to_core(), use == MOMENTO_SCOPE_USE_API_KEY
                                             ? ma::ScopeUse::ApiKey
                                             : ma::ScopeUse::DisposableToken);
  });
}

}  // extern "C"
