/* One HTTP request over libcurl, behind a plain C interface. libmomento_auth_http.so.1 implements
   it and is the only file that links libcurl: core loads it on the first AWS request, so a
   process that never uses an AWS store never maps libcurl and the libraries it brings
   (bench/capi/RESULTS.md: about 3.9 MiB resident). Internal: not installed, not public ABI. The
   entry's name carries the layout's version; a changed layout takes a new name. */
#ifndef MOMENTO_AUTH_HTTP_TRANSFER_H
#define MOMENTO_AUTH_HTTP_TRANSFER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOMENTO_AUTH_HTTP_MODULE "libmomento_auth_http.so.1"
#define MOMENTO_AUTH_HTTP_ENTRY "momento_auth_http_transfer_v1"

typedef struct momento_auth_http_request {
  const char* method; /* "GET", "POST" (with body) or "PUT" (bodiless) */
  const char* url;
  const char* const* headers; /* "Name: value"; wiped in the module's copies after the call */
  size_t n_headers;
  const char* body;
  size_t body_len;
  long timeout_ms;
  int no_proxy;
  const char* ca_file; /* NULL: the system's roots */
  /* SigV4 by libcurl: "aws:amz:REGION:SERVICE", NULL for an unsigned request */
  const char* sigv4;
  const char* access_key_id;
  const char* secret_access_key;
  /* Receives the answer's body in pieces; returning anything but len aborts the transfer. */
  size_t (*on_body)(const char* data, size_t len, void* ctx);
  void* ctx;
} momento_auth_http_request;

typedef enum momento_auth_http_outcome {
  MOMENTO_AUTH_HTTP_OK = 0,
  MOMENTO_AUTH_HTTP_TIMEOUT,
  MOMENTO_AUTH_HTTP_FAILED,    /* no answer: `error` says why */
  MOMENTO_AUTH_HTTP_NO_MEMORY, /* a handle or header list could not be made: `error` names it */
} momento_auth_http_outcome;

typedef struct momento_auth_http_result {
  long status;     /* the HTTP status, 0 without an answer */
  char error[256]; /* NUL-terminated reason when not OK */
} momento_auth_http_result;

typedef momento_auth_http_outcome (*momento_auth_http_transfer_fn)(const momento_auth_http_request*,
                                                                   momento_auth_http_result*);

#ifdef __cplusplus
}
#endif

#endif
