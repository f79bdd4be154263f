/* A plain C99 program using the installed libmomento_auth: generate, inspect, refresh and save
 * a key against a local server. Usage: consumer <bootstrap-token-file> <host:port> <out-dir>
 * Exits 0 only if every step behaved as documented. */
#include <momento/auth.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

/* Reports a failed call with its error object, then frees the error. */
static int ok(momento_status_t st, momento_error_t **err, const char *what) {
  if (st == MOMENTO_OK) return 1;
  fprintf(stderr, "FAIL %s: %s (%s, grpc %d)\n", what, momento_status_str(st),
          momento_error_message(*err), (int)momento_error_grpc_status(*err));
  momento_error_free(*err);
  *err = NULL;
  ++failures;
  return 0;
}

static void expect(int cond, const char *what) {
  if (!cond) {
    fprintf(stderr, "FAIL %s\n", what);
    ++failures;
  }
}

static momento_auth_client_t *client_for(const char *key, const char *addr,
                                         momento_credential_t **cred_out) {
  momento_error_t *err = NULL;
  momento_endpoint_override_t *ov = NULL;
  momento_credential_t *cred = NULL;
  momento_client_config_t *cfg = NULL;
  momento_auth_client_t *client = NULL;
  if (ok(momento_endpoint_override_new_single(&ov, addr, 0, &err), &err, "override") &&
      ok(momento_credential_from_string(&cred, key, ov, &err), &err, "credential") &&
      ok(momento_client_config_new(&cfg, &err), &err, "config") &&
      ok(momento_client_config_set_deadline_ms(cfg, 10000, &err), &err, "deadline"))
    ok(momento_auth_client_new(&client, cred, cfg, &err), &err, "client");
  momento_client_config_free(cfg);
  momento_endpoint_override_free(ov);
  if (cred_out) *cred_out = cred;
  else momento_credential_free(cred);
  return client;
}

int main(int argc, char **argv) {
  momento_error_t *err = NULL;
  momento_endpoint_override_t *ov = NULL;
  momento_credential_t *admin_cred = NULL, *user_cred = NULL;
  momento_auth_client_t *admin = NULL, *user = NULL;
  momento_scope_t *scope = NULL;
  momento_expires_in_t *hour = NULL;
  momento_token_t *key = NULL, *refreshed = NULL;
  char *json = NULL;
  char path[4096];
  const char *host = NULL;
  uint16_t port = 0;
  int32_t secure = -1, state = -1;
  uint64_t epoch = 0;

  if (argc != 4) {
    fprintf(stderr, "usage: %s <bootstrap-token-file> <host:port> <out-dir>\n", argv[0]);
    return 2;
  }
  expect(momento_abi_version() == MOMENTO_AUTH_ABI_VERSION, "ABI version");
  expect(strcmp(momento_version_string(), MOMENTO_AUTH_VERSION_STRING) == 0, "version string");

  /* The super-user key from the server's bootstrap file. */
  if (ok(momento_endpoint_override_new_single(&ov, argv[2], 0, &err), &err, "override") &&
      ok(momento_credential_from_file(&admin_cred, argv[1], ov, &err), &err, "bootstrap file")) {
    ok(momento_auth_client_new(&admin, admin_cred, NULL, &err), &err, "admin client");
  }
  if (admin == NULL) goto done;

  /* Generate. */
  if (!ok(momento_scope_new(&scope, &err), &err, "scope") ||
      !ok(momento_scope_add_cache(scope, MOMENTO_CACHE_READ_WRITE, "orders", &err), &err, "add cache") ||
      !ok(momento_scope_add_topic(scope, MOMENTO_TOPIC_SUBSCRIBE_ONLY, NULL, MOMENTO_SELECT_ALL,
                                  NULL, &err), &err, "add topic") ||
      !ok(momento_expires_in_new(&hour, MOMENTO_EXPIRES_HOURS, 1, &err), &err, "expires") ||
      !ok(momento_auth_client_generate_api_key(&key, admin, scope, hour, &err), &err, "generate"))
    goto done;
  expect(momento_token_refresh_token(key)[0] != '\0', "refresh token present");
  expect(momento_token_valid_until(key) > 0, "valid_until set");

  /* Inspect. */
  user = client_for(momento_token_api_key(key), argv[2], &user_cred);
  if (user == NULL) goto done;
  expect(momento_credential_kind(user_cred) == MOMENTO_CREDENTIAL_V1_ENVELOPE, "kind");
  if (ok(momento_credential_endpoint(&host, &port, &secure, user_cred, MOMENTO_SERVICE_CONTROL,
                                     &err), &err, "endpoint"))
    printf("control endpoint %s:%u secure=%d\n", host, (unsigned)port, (int)secure);
  if (ok(momento_credential_expiry(&state, &epoch, user_cred, &err), &err, "expiry"))
    printf("expiry state %d\n", (int)state);
  printf("credential %s\n", momento_credential_redacted(user_cred));
  expect(strstr(momento_credential_redacted(user_cred), momento_token_api_key(key)) == NULL,
         "redacted display hides the key");

  /* Refresh with the key's own client; save as Download JSON. */
  if (!ok(momento_auth_client_refresh_api_key(&refreshed, user, momento_token_refresh_token(key),
                                              &err), &err, "refresh"))
    goto done;
  expect(strcmp(momento_token_api_key(refreshed), momento_token_api_key(key)) != 0, "new key");
  expect(strcmp(momento_token_refresh_token(refreshed), momento_token_refresh_token(key)) != 0,
         "new refresh token");
  if (ok(momento_token_to_json(&json, refreshed, &err), &err, "to_json"))
    expect(strstr(json, "\"validUntil\"") != NULL, "JSON has validUntil");
  snprintf(path, sizeof path, "%s/momento_token.info.json", argv[3]);
  ok(momento_token_write_file(refreshed, path, &err), &err, "write file");

  /* A failing call: a refresh token the server never issued. */
  {
    momento_token_t *never = NULL;
    momento_status_t st = momento_auth_client_refresh_api_key(&never, user, "wrong", &err);
    expect(st == MOMENTO_ERR_AUTHENTICATION, "wrong refresh token is AUTHENTICATION_ERROR");
    expect(never == NULL, "out-param untouched on error");
    expect(err != NULL && momento_error_grpc_status(err) == 16, "grpc status 16");
    momento_error_free(err);
    err = NULL;
  }

done:
  if (admin == NULL && failures == 0) failures = 1;
  momento_free(json);
  momento_token_free(refreshed);
  momento_token_free(key);
  momento_expires_in_free(hour);
  momento_scope_free(scope);
  momento_auth_client_free(user);
  momento_auth_client_free(admin);
  momento_credential_free(user_cred);
  momento_credential_free(admin_cred);
  momento_endpoint_override_free(ov);
  printf(failures ? "consumer: %d failure(s)\n" : "consumer: ok\n", failures);
  return failures ? 1 : 0;
}
