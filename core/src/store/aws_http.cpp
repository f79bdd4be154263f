// HTTP to AWS endpoints over libcurl; SigV4 is libcurl's own (CURLOPT_AWS_SIGV4).
#include "aws_internal.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>

#include "momento/auth/error.hpp"

namespace momento::auth::aws::impl {
namespace {

constexpr size_t kMaxResponse = 1024 * 1024;

void global_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t len = size * n;
  if (out->size() + len > kMaxResponse) return 0;  // aborts the transfer
  out->append(data, len);
  return len;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const {
    // The list may hold a session token or bearer token: wipe before freeing.
    for (curl_slist* p = l; p; p = p->next)
      for (char* c = p->data; c && *c; ++c) *c = 0;
    curl_slist_free_all(l);
  }
};

}  // namespace

HttpResponse http_call(HttpCall& call, std::string_view what) {
  global_curl_init();
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) throw Error(ErrorCode::ClientResourceExhausted, "curl_easy_init failed");
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, SlistFree> headers;
  auto add = [&](const std::string& h) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (!l) throw Error(ErrorCode::ClientResourceExhausted, "curl_slist_append failed");
    headers.release();
    headers.reset(l);
  };
  for (const auto& h : call.headers) add(h);
  std::string sigv4, token_header;
  if (call.sign) {
    const Credentials& cr = *call.sign;
    if (cr.access_key_id.empty() || cr.secret_access_key.empty())
      throw_invalid(std::string(what) + ": the AWS credentials are incomplete");
    if (call.region.empty() || call.service.empty())
      throw_invalid(std::string(what) + ": region or service for SigV4 is empty");
    sigv4 = "aws:amz:" + call.region + ":" + call.service;
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, cr.access_key_id.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, cr.secret_access_key.reveal().c_str());
    if (!cr.session_token.empty()) {
      token_header = "X-Amz-Security-Token: " + cr.session_token.reveal();
      add(token_header);
      wipe(token_header);
    }
  }
  HttpResponse resp;
  curl_easy_setopt(c, CURLOPT_URL, call.url.c_str());
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (call.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.body.size()));
  } else if (call.method == "PUT") {
    // A bodiless PUT (the instance metadata token request).
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  } else if (call.method != "GET") {
    throw_invalid(std::string(what) + ": unsupported HTTP method " + call.method);
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if (call.no_proxy) curl_easy_setopt(c, CURLOPT_PROXY, "");  // metadata endpoints: never proxied
  if (!call.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, call.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  headers.reset();
  for (auto& h : call.headers) wipe(h);
  if (rc != CURLE_OK) {
    wipe(resp.body);
    ErrorCode code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::Timeout : ErrorCode::Connection;
    throw Error(code, std::string(what) + " request failed: " + curl_easy_strerror(rc));
  }
  return resp;
}

std::string form_escape(std::string_view s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(digits[ch >> 4]);
      out.push_back(digits[ch & 0xf]);
    }
  }
  return out;
}

}  // namespace momento::auth::aws::impl
