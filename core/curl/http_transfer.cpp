// libmomento_auth_http.so.1: the libcurl side of core's AWS requests (http_transfer.h). Core
// checks and builds the request; this file only hands it to libcurl.
#include "http_transfer.h"

#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string_view>

namespace {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const {
    // The list may hold a session token or bearer token: wipe before freeing.
    for (curl_slist* p = l; p; p = p->next)
      for (volatile char* c = p->data; c && *c; ++c) *c = 0;
    curl_slist_free_all(l);
  }
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* req = static_cast<const momento_auth_http_request*>(user);
  return req->on_body(data, size * n, req->ctx);
}

momento_auth_http_outcome fail(momento_auth_http_result* out, momento_auth_http_outcome outcome,
                               const char* why) {
  std::snprintf(out->error, sizeof out->error, "%s", why);
  return outcome;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) momento_auth_http_outcome
momento_auth_http_transfer_v1(const momento_auth_http_request* req, momento_auth_http_result* out) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  out->status = 0;
  out->error[0] = 0;
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return fail(out, MOMENTO_AUTH_HTTP_NO_MEMORY, "curl_easy_init failed");
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, SlistFree> headers;
  for (size_t i = 0; i < req->n_headers; ++i) {
    curl_slist* l = curl_slist_append(headers.get(), req->headers[i]);
    if (!l) return fail(out, MOMENTO_AUTH_HTTP_NO_MEMORY, "curl_slist_append failed");
    headers.release();
    headers.reset(l);
  }
  if (req->sigv4) {
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, req->access_key_id);
    curl_easy_setopt(c, CURLOPT_PASSWORD, req->secret_access_key);
  }
  curl_easy_setopt(c, CURLOPT_URL, req->url);
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  const std::string_view method = req->method;
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(req->body_len));
  } else if (method == "PUT") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if (req->no_proxy) curl_easy_setopt(c, CURLOPT_PROXY, "");  // metadata endpoints: never proxied
  if (req->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, req);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  if (rc == CURLE_OK) return MOMENTO_AUTH_HTTP_OK;
  return fail(out, rc == CURLE_OPERATION_TIMEDOUT ? MOMENTO_AUTH_HTTP_TIMEOUT : MOMENTO_AUTH_HTTP_FAILED,
              curl_easy_strerror(rc));
}
