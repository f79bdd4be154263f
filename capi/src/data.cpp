// The data client (control and data calls, Ping) and the owned string list it returns.
#include <cstring>
#include <memory>

#include "internal.hpp"

using namespace momento_capi;

namespace {

momento_status_t data_call(momento_data_client_t *client, momento_error_t **err, const char *what,
                           auto &&body) {
  momento_status_t st = guard(err, what, [&] {
    need_handle(client, "client");
    body();
  });
  if (st != MOMENTO_OK && log_enabled(MOMENTO_LOG_WARN))
    log(MOMENTO_LOG_WARN, std::string(what) + " failed: " + momento_status_str(st));
  return st;
}

}  // namespace

extern "C" {

momento_status_t momento_data_client_new(momento_data_client_t **out,
                                         const momento_credential_t *credential,
                                         const momento_client_config_t *config,
                                         momento_error_t **err) {
  return guard(err, "momento_data_client_new", [&] {
    need_out(out, "out");
    need_handle(credential, "credential");
    route_grpc_logs();
    ma::DataClientConfig cfg;
    if (config != nullptr) {
      cfg.ca_file = config->value.ca_file;
      cfg.max_message_bytes = config->value.max_message_bytes;
      if (config->deadline_set) {
        cfg.control_deadline = config->value.deadline;
        cfg.data_deadline = config->value.deadline;
      }
    }
    auto client = std::make_unique<momento_data_client>(credential->value, std::move(cfg));
    if (log_enabled(MOMENTO_LOG_INFO))
      log(MOMENTO_LOG_INFO, "data client created for " + client->credential.redacted());
    *out = client.release();
  });
}

void momento_data_client_free(momento_data_client_t *client) { delete client; }

const momento_credential_t *momento_data_client_credential(const momento_data_client_t *client) {
  return client ? &client->credential : nullptr;
}

momento_status_t momento_data_client_create_cache(momento_data_client_t *client,
                                                  const char *cache_name, momento_error_t **err) {
  return data_call(client, err, "momento_data_client_create_cache", [&] {
    client->client.create_cache(need_str(cache_name, "cache_name", true));
  });
}

momento_status_t momento_data_client_delete_cache(momento_data_client_t *client,
                                                  const char *cache_name, momento_error_t **err) {
  return data_call(client, err, "momento_data_client_delete_cache", [&] {
    client->client.delete_cache(need_str(cache_name, "cache_name", true));
  });
}

momento_status_t momento_data_client_flush_cache(momento_data_client_t *client,
                                                 const char *cache_name, momento_error_t **err) {
  return data_call(client, err, "momento_data_client_flush_cache", [&] {
    client->client.flush_cache(need_str(cache_name, "cache_name", true));
  });
}

momento_status_t momento_data_client_list_caches(momento_string_list_t **out,
                                                 momento_data_client_t *client,
                                                 momento_error_t **err) {
  return data_call(client, err, "momento_data_client_list_caches", [&] {
    need_out(out, "out");
    auto list = std::make_unique<momento_string_list>();
    list->items = client->client.list_caches();
    *out = list.release();
  });
}

momento_status_t momento_data_client_set(momento_data_client_t *client, const char *cache_name,
                                         const void *key, size_t key_len, const void *value,
                                         size_t value_len, int64_t ttl_ms,
                                         momento_error_t **err) {
  return data_call(client, err, "momento_data_client_set", [&] {
    std::string_view cache = need_str(cache_name, "cache_name", true);
    std::string_view k = need_bytes(key, key_len, "key");
    std::string_view v = need_bytes(value, value_len, "value");
    client->client.set(cache, k, v, std::chrono::milliseconds(ttl_ms));
  });
}

momento_status_t momento_data_client_get(int32_t *hit, char **value, size_t *value_len,
                                         momento_data_client_t *client, const char *cache_name,
                                         const void *key, size_t key_len, momento_error_t **err) {
  return data_call(client, err, "momento_data_client_get", [&] {
    need_out(hit, "hit");
    need_out(value, "value");
    need_out(value_len, "value_len");
    std::string_view cache = need_str(cache_name, "cache_name", true);
    std::string_view k = need_bytes(key, key_len, "key");
    std::optional<std::string> v = client->client.get(cache, k);
    char *copy = v ? owned_copy(*v) : nullptr;  // NUL-terminated, so momento_free() takes it
    *hit = v ? 1 : 0;
    *value = copy;
    *value_len = v ? v->size() : 0;
  });
}

momento_status_t momento_data_client_delete(momento_data_client_t *client, const char *cache_name,
                                            const void *key, size_t key_len,
                                            momento_error_t **err) {
  return data_call(client, err, "momento_data_client_delete", [&] {
    std::string_view cache = need_str(cache_name, "cache_name", true);
    client->client.delete_key(cache, need_bytes(key, key_len, "key"));
  });
}

momento_status_t momento_data_client_ping(momento_data_client_t *client, momento_error_t **err) {
  return data_call(client, err, "momento_data_client_ping", [&] { client->client.ping(); });
}

size_t momento_string_list_count(const momento_string_list_t *list) {
  return list ? list->items.size() : 0;
}

const char *momento_string_list_get(const momento_string_list_t *list, size_t index) {
  if (list == nullptr || index >= list->items.size()) return nullptr;
  return list->items[index].c_str();
}

void momento_string_list_free(momento_string_list_t *list) { delete list; }

}  // extern "C"
