// Client configuration, the auth client and the tokens it returns.
#include <memory>

#include "internal.hpp"
#include "momento/auth/secret.hpp"

using namespace momento_capi;

namespace {

ma::ScopeUse use_for(bool disposable) {
  return disposable ? ma::ScopeUse::DisposableToken : ma::ScopeUse::ApiKey;
}

// Runs one RPC, wraps the result and reports it through the log callback.
momento_status_t call(momento_token_t **out, momento_auth_client_t *client, momento_error_t **err,
                      const char *what, auto &&rpc) {
  momento_status_t st = guard(err, what, [&] {
    need_out(out, "out");
    need_handle(client, "client");
    auto token = std::make_unique<momento_token>(rpc());
    if (log_enabled(MOMENTO_LOG_DEBUG))
      log(MOMENTO_LOG_DEBUG, std::string(what) + ": ok, key " +
                                 ma::redact(token->value.api_key.reveal()) + ", valid until " +
                                 std::to_string(token->value.valid_until.epoch()));
    *out = token.release();
  });
  if (st != MOMENTO_OK && log_enabled(MOMENTO_LOG_WARN))
    log(MOMENTO_LOG_WARN, std::string(what) + " failed: " + momento_status_str(st));
  return st;
}

}  // namespace

extern "C" {

momento_status_t momento_client_config_new(momento_client_config_t **out, momento_error_t **err) {
  return guard(err, "momento_client_config_new", [&] {
    need_out(out, "out");
    *out = new momento_client_config{};
  });
}

void momento_client_config_free(momento_client_config_t *config) { delete config; }

momento_status_t momento_client_config_set_deadline_ms(momento_client_config_t *config,
                                                       int64_t deadline_ms,
                                                       momento_error_t **err) {
  return guard(err, "momento_client_config_set_deadline_ms", [&] {
    need_handle(config, "config");
    ma::check_deadline(std::chrono::milliseconds(deadline_ms), "deadline_ms");
    config->value.deadline = std::chrono::milliseconds(deadline_ms);
    config->deadline_set = true;
  });
}

momento_status_t momento_client_config_set_ca_file(momento_client_config_t *config,
                                                   const char *path, momento_error_t **err) {
  return guard(err, "momento_client_config_set_ca_file", [&] {
    need_handle(config, "config");
    std::string p(opt_str(path, "path").value_or(""));
    ma::check_ca_file(p);
    config->value.ca_file = std::move(p);
  });
}

momento_status_t momento_client_config_set_max_message_bytes(momento_client_config_t *config,
                                                             int32_t max_bytes,
                                                             momento_error_t **err) {
  return guard(err, "momento_client_config_set_max_message_bytes", [&] {
    need_handle(config, "config");
    ma::check_max_message_bytes(max_bytes, "max_bytes");
    config->value.max_message_bytes = max_bytes;
  });
}

momento_status_t momento_auth_client_new(momento_auth_client_t **out,
                                         const momento_credential_t *credential,
                                         const momento_client_config_t *config,
                                         momento_error_t **err) {
  return guard(err, "momento_auth_client_new", [&] {
    need_out(out, "out");
    need_handle(credential, "credential");
    route_grpc_logs();
    ma::ClientConfig cfg = config ? config->value : ma::ClientConfig{};
    auto client = std::make_unique<momento_auth_client>(credential->value, std::move(cfg));
    if (log_enabled(MOMENTO_LOG_INFO))
      log(MOMENTO_LOG_INFO, "auth client created for " + client->credential.redacted());
    *out = client.release();
  });
}

void momento_auth_client_free(momento_auth_client_t *client) { delete client; }

const momento_credential_t *momento_auth_client_credential(const momento_auth_client_t *client) {
  return client ? &client->credential : nullptr;
}

momento_status_t momento_auth_client_generate_api_key(momento_token_t **out,
                                                      momento_auth_client_t *client,
                                                      const momento_scope_t *scope,
                                                      const momento_expires_in_t *expires_in,
                                                      momento_error_t **err) {
  return call(out, client, err, "momento_auth_client_generate_api_key", [&] {
    need_handle(scope, "scope");
    need_handle(expires_in, "expires_in");
    ma::PermissionScope s = scope->to_core();
    ma::validate_scope(s, use_for(false));
    return client->client.generate_api_key(s, expires_in->value);
  });
}

momento_status_t momento_auth_client_refresh_api_key(momento_token_t **out,
                                                     momento_auth_client_t *client,
                                                     const char *refresh_token,
                                                     momento_error_t **err) {
  return call(out, client, err, "momento_auth_client_refresh_api_key", [&] {
    return client->client.refresh_api_key(need_str(refresh_token, "refresh_token", true));
  });
}

momento_status_t momento_auth_client_generate_disposable_token(
    momento_token_t **out, momento_auth_client_t *client, const momento_scope_t *scope,
    const momento_expires_in_t *expires_in, const char *token_id, momento_error_t **err) {
  return call(out, client, err, "momento_auth_client_generate_disposable_token", [&] {
    need_handle(scope, "scope");
    need_handle(expires_in, "expires_in");
    if (!expires_in->value.does_expire()) invalid("disposable tokens must expire");
    std::string_view id = token_id ? need_str(token_id, "token_id", true) : std::string_view{};
    ma::PermissionScope s = scope->to_core();
    ma::validate_scope(s, use_for(true));
    return client->client.generate_disposable_token(s, expires_in->value, id);
  });
}

const char *momento_token_api_key(const momento_token_t *token) {
  return token ? token->value.api_key.reveal().c_str() : "";
}

const char *momento_token_refresh_token(const momento_token_t *token) {
  return token ? token->value.refresh_token.reveal().c_str() : "";
}

const char *momento_token_endpoint(const momento_token_t *token) {
  return token ? token->endpoint().c_str() : "";
}

uint64_t momento_token_valid_until(const momento_token_t *token) {
  return token ? token->value.valid_until.epoch() : 0;
}

momento_status_t momento_token_to_json(char **out, const momento_token_t *token,
                                       momento_error_t **err) {
  return guard(err, "momento_token_to_json", [&] {
    need_out(out, "out");
    need_handle(token, "token");
    ma::Secret json(ma::token_file_json(token->value));  // wiped on scope exit
    *out = owned_copy(json.reveal());
  });
}

momento_status_t momento_token_write_file(const momento_token_t *token, const char *path,
                                          momento_error_t **err) {
  return guard(err, "momento_token_write_file", [&] {
    need_handle(token, "token");
    ma::write_token_file(std::string(need_str(path, "path", true)), token->value);
  });
}

void momento_token_free(momento_token_t *token) { delete token; }

}  // extern "C"
