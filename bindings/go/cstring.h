/* C helpers of the Go package (a header so that every cgo preamble can use them). */
#ifndef MOMENTO_GO_CSTRING_H
#define MOMENTO_GO_CSTRING_H
#include <stdlib.h>
#include <momento/auth.h>
#include <string.h>

// A Go string as a NUL-terminated C string for the length of one call, so that parsing a key
// or refreshing is a single cgo call: copied to the stack when short (the heap otherwise, or
// abort as C.CString would), and wiped afterwards because it may be a secret.
typedef struct { char *p; size_t n; char buf[2048]; } momento_go_str;

static void momento_go_str_init(momento_go_str *s, _GoString_ g) {
  s->n = _GoStringLen(g);
  s->p = s->n < sizeof s->buf ? s->buf : malloc(s->n + 1);
  if (!s->p) abort();
  memcpy(s->p, _GoStringPtr(g), s->n);
  s->p[s->n] = 0;
}

static void momento_go_str_done(momento_go_str *s) {
  momento_wipe(s->p, s->n);
  if (s->p != s->buf) free(s->p);
}

static momento_status_t momento_go_credential_from_string(momento_credential_t **out, _GoString_ key,
    const momento_endpoint_override_t *o, momento_error_t **err) {
  momento_go_str k;
  momento_go_str_init(&k, key);
  momento_status_t st = momento_credential_from_string(out, k.p, o, err);
  momento_go_str_done(&k);
  return st;
}

static momento_status_t momento_go_credential_from_disposable_token(momento_credential_t **out,
    _GoString_ token, const momento_endpoint_override_t *o, momento_error_t **err) {
  momento_go_str t;
  momento_go_str_init(&t, token);
  momento_status_t st = momento_credential_from_disposable_token(out, t.p, o, err);
  momento_go_str_done(&t);
  return st;
}

static momento_status_t momento_go_credential_from_v2(momento_credential_t **out, _GoString_ key,
    _GoString_ endpoint, const momento_endpoint_override_t *o, momento_error_t **err) {
  momento_go_str k, ep;
  momento_go_str_init(&k, key);
  momento_go_str_init(&ep, endpoint);
  momento_status_t st = momento_credential_from_v2(out, k.p, ep.p, o, err);
  momento_go_str_done(&ep);
  momento_go_str_done(&k);
  return st;
}

static momento_status_t momento_go_refresh_api_key(momento_token_t **out, momento_auth_client_t *c,
    _GoString_ refresh_token, momento_error_t **err) {
  momento_go_str rt;
  momento_go_str_init(&rt, refresh_token);
  momento_status_t st = momento_auth_client_refresh_api_key(out, c, rt.p, err);
  momento_go_str_done(&rt);
  return st;
}

// A token's parts in one cgo call; the Go side copies them, then frees the token.
typedef struct {
  const char *api_key, *refresh_token, *endpoint;
  size_t api_key_n, refresh_token_n, endpoint_n;
  uint64_t valid_until;
} momento_go_token_parts;

static void momento_go_token_read(const momento_token_t *t, momento_go_token_parts *p) {
  p->api_key = momento_token_api_key(t);
  p->api_key_n = strlen(p->api_key);
  p->refresh_token = momento_token_refresh_token(t);
  p->refresh_token_n = strlen(p->refresh_token);
  p->endpoint = momento_token_endpoint(t);
  p->endpoint_n = strlen(p->endpoint);
  p->valid_until = momento_token_valid_until(t);
}

static momento_status_t momento_go_token_new(momento_token_t **out, _GoString_ api_key,
    _GoString_ refresh_token, uint64_t valid_until, momento_error_t **err) {
  momento_go_str k, rt;
  momento_go_str_init(&k, api_key);
  momento_go_str_init(&rt, refresh_token);
  momento_status_t st = momento_token_new(out, k.p, rt.p, valid_until, err);
  momento_go_str_done(&rt);
  momento_go_str_done(&k);
  return st;
}
#endif
