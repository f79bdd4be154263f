/* Loads libmomento_auth.so.1 at run time with dlopen/dlsym, the way FFI bindings do, checks the
 * ABI version and mints a key. Usage: dlopen_consumer <bootstrap-token-file> <host:port>
 * The header is used for types and constants only; every function comes from dlsym. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <momento/auth.h>
#include <stdio.h>
#include <string.h>

/* Function-pointer types for the symbols used. */
typedef uint32_t (*abi_fn)(void);
typedef const char *(*version_fn)(void);
typedef const char *(*status_str_fn)(momento_status_t);
typedef momento_status_t (*override_single_fn)(momento_endpoint_override_t **, const char *,
                                               int32_t, momento_error_t **);
typedef void (*override_free_fn)(momento_endpoint_override_t *);
typedef momento_status_t (*cred_file_fn)(momento_credential_t **, const char *,
                                         const momento_endpoint_override_t *, momento_error_t **);
typedef void (*cred_free_fn)(momento_credential_t *);
typedef momento_status_t (*client_new_fn)(momento_auth_client_t **, const momento_credential_t *,
                                          const momento_client_config_t *, momento_error_t **);
typedef void (*client_free_fn)(momento_auth_client_t *);
typedef momento_status_t (*scope_predef_fn)(momento_scope_t **, int32_t, momento_error_t **);
typedef void (*scope_free_fn)(momento_scope_t *);
typedef momento_status_t (*expires_new_fn)(momento_expires_in_t **, int32_t, int64_t,
                                           momento_error_t **);
typedef void (*expires_free_fn)(momento_expires_in_t *);
typedef momento_status_t (*generate_fn)(momento_token_t **, momento_auth_client_t *,
                                        const momento_scope_t *, const momento_expires_in_t *,
                                        momento_error_t **);
typedef const char *(*token_str_fn)(const momento_token_t *);
typedef void (*token_free_fn)(momento_token_t *);

/* dlsym returns void *; converting it to a function pointer goes through memcpy so the
 * program stays valid ISO C. */
static int load(void *lib, const char *name, void *fnptr, size_t size) {
  void *sym = dlsym(lib, name);
  if (sym == NULL) {
    fprintf(stderr, "FAIL dlsym %s: %s\n", name, dlerror());
    return 0;
  }
  memcpy(fnptr, &sym, size);
  return 1;
}
#define LOAD(lib, var, name) load(lib, name, &var, sizeof var)

int main(int argc, char **argv) {
  abi_fn abi;
  version_fn version;
  status_str_fn status_str;
  override_single_fn override_single;
  override_free_fn override_free;
  cred_file_fn cred_from_file;
  cred_free_fn cred_free;
  client_new_fn client_new;
  client_free_fn client_free;
  scope_predef_fn scope_predefined;
  scope_free_fn scope_free;
  expires_new_fn expires_new;
  expires_free_fn expires_free;
  generate_fn generate;
  token_str_fn token_api_key;
  token_free_fn token_free;
  momento_endpoint_override_t *ov = NULL;
  momento_credential_t *cred = NULL;
  momento_auth_client_t *client = NULL;
  momento_scope_t *scope = NULL;
  momento_expires_in_t *hour = NULL;
  momento_token_t *token = NULL;
  momento_status_t st = MOMENTO_ERR_UNKNOWN;
  void *lib;
  int rc = 1;

  if (argc != 3) {
    fprintf(stderr, "usage: %s <bootstrap-token-file> <host:port>\n", argv[0]);
    return 2;
  }
  lib = dlopen("libmomento_auth.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  /* Internal symbols must not be reachable. */
  if (dlsym(lib, "_ZN7momento4auth15library_versionEv") != NULL) {
    fprintf(stderr, "FAIL an internal C++ symbol is exported\n");
    return 1;
  }
  if (!(LOAD(lib, abi, "momento_abi_version") && LOAD(lib, version, "momento_version_string") &&
        LOAD(lib, status_str, "momento_status_str") &&
        LOAD(lib, override_single, "momento_endpoint_override_single") &&
        LOAD(lib, override_free, "momento_endpoint_override_free") &&
        LOAD(lib, cred_from_file, "momento_credential_from_file") &&
        LOAD(lib, cred_free, "momento_credential_free") &&
        LOAD(lib, client_new, "momento_auth_client_new") &&
        LOAD(lib, client_free, "momento_auth_client_free") &&
        LOAD(lib, scope_predefined, "momento_scope_new_predefined") &&
        LOAD(lib, scope_free, "momento_scope_free") &&
        LOAD(lib, expires_new, "momento_expires_in_new") &&
        LOAD(lib, expires_free, "momento_expires_in_free") &&
        LOAD(lib, generate, "momento_auth_client_generate_api_key") &&
        LOAD(lib, token_api_key, "momento_token_api_key") &&
        LOAD(lib, token_free, "momento_token_free")))
    return 1;
  if (abi() != MOMENTO_AUTH_ABI_VERSION) {
    fprintf(stderr, "FAIL ABI %u, expected %d\n", abi(), MOMENTO_AUTH_ABI_VERSION);
    return 1;
  }
  printf("loaded libmomento_auth %s (ABI %u)\n", version(), abi());

  if ((st = override_single(&ov, argv[2], 0, NULL)) == MOMENTO_OK &&
      (st = cred_from_file(&cred, argv[1], ov, NULL)) == MOMENTO_OK &&
      (st = client_new(&client, cred, NULL, NULL)) == MOMENTO_OK &&
      (st = scope_predefined(&scope, MOMENTO_SCOPE_ALL_DATA_READ_ONLY, NULL)) == MOMENTO_OK &&
      (st = expires_new(&hour, MOMENTO_EXPIRES_MINUTES, 30, NULL)) == MOMENTO_OK &&
      (st = generate(&token, client, scope, hour, NULL)) == MOMENTO_OK &&
      token_api_key(token)[0] != '\0') {
    rc = 0;
  } else {
    fprintf(stderr, "FAIL %s\n", status_str(st));
  }
  token_free(token);
  expires_free(hour);
  scope_free(scope);
  client_free(client);
  cred_free(cred);
  override_free(ov);
  /* The library stays loaded: gRPC keeps background threads for the process lifetime. */
  printf(rc == 0 ? "dlopen consumer: ok\n" : "dlopen consumer: failed\n");
  return rc;
}
