// HTTP to AWS endpoints over libcurl (SigV4 is libcurl's own, CURLOPT_AWS_SIGV4), and reading
// AWS answers: error codes (XML or JSON) and STS credentials (XML, through pugixml).
#include "aws_internal.hpp"

#include "../util/crypto.hpp"

#include <curl/curl.h>
#include <pugixml.hpp>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "momento/auth/error.hpp"
#include "momento/auth/secret.hpp"

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
  momento::auth::detail::append_wiped(*out, std::string_view(data, len));  // it may be a secret
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
    // A bodiless PUT (the instance metadata token request), framed as one: "Content-Length: 0",
    // or a server may wait for a body until the timeout.
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    add("Content-Length: 0");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
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

std::optional<int64_t> parse_time(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  if (*end == '.')
    while (std::isdigit(static_cast<unsigned char>(*++end))) {}
  int64_t offset = 0;
  if (*end == '+' || *end == '-') {
    int h = 0, m = 0;
    if (std::sscanf(end + 1, "%2d:%2d", &h, &m) != 2) return std::nullopt;
    offset = (*end == '+' ? 1 : -1) * (h * 3600 + m * 60);
  } else if (*end != 'Z' && *end != 0 && std::strcmp(end, "UTC") != 0) {  // botocore's caches write "UTC"
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

AwsError aws_error_of(std::string& body) {
  AwsError e;
  pugi::xml_document doc;
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && body[first] == '<') {
    if (!doc.load_buffer_inplace(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) return e;
    pugi::xml_node err = doc.document_element();
    if (std::string_view(err.name()) == "ErrorResponse") err = err.child("Error");
    if (std::string_view(err.name()) == "Error") {
      e.code = err.child_value("Code");
      e.message = err.child_value("Message");
    }
  } else {
    auto j = nlohmann::json::parse(body, nullptr, false);
    auto first_of = [&](std::initializer_list<const char*> keys) {
      for (const char* k : keys)
        if (j.is_object() && j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
      return std::string();
    };
    e.code = first_of({"__type", "code", "error"});
    e.message = first_of({"message", "Message", "error_description"});
    if (j.is_object()) j.clear();
    e.code = e.code.substr(e.code.rfind('#') + 1);  // "com.amazonaws.sso#Unauthorized" -> "Unauthorized"
  }
  if (e.code.size() > 100) e.code.resize(100);
  if (e.message.size() > 200) e.message.resize(200);
  return e;
}

ErrorCode code_for(long status, const std::string& aws_code) {
  using C = ErrorCode;
  static const std::map<std::string_view, ErrorCode> by_code = {
      // STS, SSO, SSO OIDC
      {"ExpiredToken", C::Authentication}, {"InvalidClientTokenId", C::Authentication},
      {"SignatureDoesNotMatch", C::Authentication}, {"IncompleteSignature", C::Authentication},
      {"InvalidIdentityToken", C::Authentication}, {"IDPRejectedClaim", C::Authentication},
      {"UnauthorizedException", C::Authentication}, {"InvalidGrantException", C::Authentication},
      {"InvalidClientException", C::Authentication}, {"ExpiredTokenException", C::Authentication},
      {"invalid_grant", C::Authentication}, {"invalid_client", C::Authentication},  // OAuth (SSO OIDC)
      {"unauthorized_client", C::Authentication}, {"expired_token", C::Authentication},
      {"AccessDenied", C::Permission}, {"ForbiddenException", C::Permission},
      {"RegionDisabledException", C::Permission}, {"Throttling", C::LimitExceeded},
      {"TooManyRequestsException", C::LimitExceeded}, {"SlowDownException", C::LimitExceeded},
      {"IDPCommunicationError", C::ServerUnavailable}, {"ValidationError", C::InvalidArgument},
      {"MalformedPolicyDocument", C::InvalidArgument}, {"InvalidRequestException", C::InvalidArgument},
      // Secrets Manager (and other JSON services)
      {"ResourceNotFoundException", C::NotFound}, {"ResourceExistsException", C::AlreadyExists},
      {"AccessDeniedException", C::Permission}, {"UnrecognizedClientException", C::Authentication},
      {"InvalidSignatureException", C::Authentication}, {"ThrottlingException", C::LimitExceeded},
      {"LimitExceededException", C::LimitExceeded}, {"InvalidParameterException", C::InvalidArgument},
      {"ValidationException", C::InvalidArgument}, {"PreconditionNotMetException", C::FailedPrecondition},
      {"EncryptionFailure", C::FailedPrecondition}, {"DecryptionFailure", C::FailedPrecondition},
  };
  if (auto it = by_code.find(aws_code); it != by_code.end()) return it->second;
  switch (status) {
    case 400: return ErrorCode::BadRequest;
    case 401: return ErrorCode::Authentication;
    case 403: return ErrorCode::Permission;
    case 404: return ErrorCode::NotFound;
    case 429: return ErrorCode::LimitExceeded;
    case 500: return ErrorCode::InternalServer;
    default: return status > 500 ? ErrorCode::ServerUnavailable : ErrorCode::Unknown;
  }
}

Credentials sts_credentials_of(std::string& xml) {
  // <{Action}Response><{Action}Result><Credentials>: parsed in place, so wiping `xml` wipes what
  // the parser holds; the values are copied straight into Secrets.
  Credentials c;
  pugi::xml_document doc;
  if (!doc.load_buffer_inplace(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) return c;
  pugi::xml_node resp = doc.document_element();
  std::string_view name = resp.name();
  constexpr std::string_view suffix = "Response";
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) return c;
  std::string result(name.substr(0, name.size() - suffix.size()));
  pugi::xml_node creds = resp.child((result + "Result").c_str()).child("Credentials");
  c.access_key_id = creds.child_value("AccessKeyId");
  c.secret_access_key = Secret(creds.child_value("SecretAccessKey"));
  c.session_token = Secret(creds.child_value("SessionToken"));
  c.expires_at = parse_time(creds.child_value("Expiration"));
  return c;
}

}  // namespace momento::auth::aws::impl
