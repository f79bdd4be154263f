// The earlier names of renamed functions (auth.h, "Deprecated names"). Each forwards to the new
// name, so old binaries and old sources keep working: the ABI only grows.
#include "momento/auth.h"

extern "C" {

momento_status_t momento_endpoint_override_base(momento_endpoint_override_t **out,
                                                const char *base_endpoint,
                                                const char *endpoint_prefix, int32_t secure,
                                                momento_error_t **err) {
  return momento_endpoint_override_new_base(out, base_endpoint, endpoint_prefix, secure, err);
}

momento_status_t momento_endpoint_override_explicit(momento_endpoint_override_t **out,
                                                    const char *control, const char *cache,
                                                    const char *token, int32_t secure,
                                                    momento_error_t **err) {
  return momento_endpoint_override_new_explicit(out, control, cache, token, secure, err);
}

momento_status_t momento_endpoint_override_single(momento_endpoint_override_t **out,
                                                  const char *host_port, int32_t secure,
                                                  momento_error_t **err) {
  return momento_endpoint_override_new_single(out, host_port, secure, err);
}

momento_status_t momento_credential_local(momento_credential_t **out, const char *host,
                                          uint16_t port, momento_error_t **err) {
  return momento_credential_new_local(out, host, port, err);
}

const char *momento_credential_kind_name(int32_t kind) { return momento_credential_kind_str(kind); }

momento_status_t momento_store_open(momento_store_t **out, const char *spec,
                                    const momento_store_options_t *options,
                                    momento_error_t **err) {
  return momento_store_new(out, spec, options, err);
}

momento_status_t momento_store_store(momento_store_t *store, const momento_token_t *token,
                                     momento_error_t **err) {
  return momento_store_save(store, token, err);
}

const char *momento_refresh_event_kind_name(int32_t kind) {
  return momento_refresh_event_kind_str(kind);
}

momento_status_t momento_watcher_current(momento_credential_t **out,
                                         const momento_watcher_t *watcher, momento_error_t **err) {
  return momento_watcher_current_credential(out, watcher, err);
}

}  // extern "C"
