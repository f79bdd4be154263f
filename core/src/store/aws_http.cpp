// HTTP to AWS endpoints over libcurl (SigV4 is libcurl's own, CURLOPT_AWS_SIGV4; libcurl is
// reached through the module of core/curl), and reading AWS answers: error codes (XML or JSON)
// and STS credentials (XML, through pugixml).
#include "aws_internal.hpp"

#include "../util/crypto.hpp"
#include "http_transfer.h"

#include <dlfcn.h>
#include <pugixml.hpp>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>
#include <nlohmann/json.hpp>

#include "momento/auth/error.hpp"
#include "momento/auth/secret.hpp"

namespace momento::auth::aws::impl {
namespace {

constexpr size_t kMaxResponse = 1024 * 1024;

// The libcurl module (core/curl/http_transfer.h), loaded on the first request: from the
// directory of the object that holds this code (libmomento_auth.so.1's, in a wheel or the Node
// package too), else by name on the library path (programs that link core statically).
momento_auth_http_transfer_fn load_transfer() {
  std::string tried;
  void* h = nullptr;
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&load_transfer), &self) && self.dli_fname &&
      std::strchr(self.dli_fname, '/')) {
    std::string path(self.dli_fname);
    path.replace(path.rfind('/') + 1, std::string::npos, MOMENTO_AUTH_HTTP_MODULE);
    h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) tried = std::string(dlerror()) + "; ";
  }
  if (!h) h = dlopen(MOMENTO_AUTH_HTTP_MODULE, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    tried += dlerror();
    throw Error(ErrorCode::FailedPrecondition, "AWS requests need " MOMENTO_AUTH_HTTP_MODULE
                                               " (installed next to the library): " + tried);
  }
  auto fn = reinterpret_cast<momento_auth_http_transfer_fn>(dlsym(h, MOMENTO_AUTH_HTTP_ENTRY));
  if (!fn) {
    throw Error(ErrorCode::FailedPrecondition,
                MOMENTO_AUTH_HTTP_MODULE " has no " MOMENTO_AUTH_HTTP_ENTRY ": a mismatched install");
  }
  return fn;  // never unloaded: libcurl keeps process-wide state
}

momento_auth_http_transfer_fn transfer() {
  static const momento_auth_http_transfer_fn fn = load_transfer();  // retried while it throws
  return fn;
}

size_t on_body(const char* data, size_t len, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + len > kMaxResponse) return 0;  // aborts the transfer
  momento::auth::detail::append_wiped(*out, std::string_view(data, len));  // it may be a secret
  return len;
}

}  // namespace

HttpResponse http_call(HttpCall& call, std::string_view what) {
  std::string sigv4, token_header;
  struct Wipe {  // the headers may carry tokens: wiped on every way out, a refused call's too
    HttpCall& call;
    std::string& token_header;
    ~Wipe() {
      for (auto& h : call.headers) wipe(h);
      wipe(token_header);
    }
  } wipe_on_exit{call, token_header};
  if (call.sign) {
    const Credentials& cr = *call.sign;
    if (cr.access_key_id.empty() || cr.secret_access_key.empty())
      throw_invalid(std::string(what) + ": the AWS credentials are incomplete");
    if (call.region.empty() || call.service.empty())
      throw_invalid(std::string(what) + ": region or service for SigV4 is empty");
  }
  if (call.method != "POST" && call.method != "PUT" && call.method != "GET")
    throw_invalid(std::string(what) + ": unsupported HTTP method " + call.method);
  const momento_auth_http_transfer_fn perform = transfer();
  if (call.sign) {
    sigv4 = "aws:amz:" + call.region + ":" + call.service;
    if (!call.sign->session_token.empty())
      token_header = "X-Amz-Security-Token: " + call.sign->session_token.reveal();
  }
  std::vector<const char*> headers;
  for (const auto& h : call.headers) headers.push_back(h.c_str());
  if (!token_header.empty()) headers.push_back(token_header.c_str());
  // A bodiless PUT (the instance metadata token request), framed as one: "Content-Length: 0",
  // or a server may wait for a body until the timeout.
  if (call.method == "PUT") headers.push_back("Content-Length: 0");
  HttpResponse resp;
  momento_auth_http_request req{};
  req.method = call.method.c_str();
  req.url = call.url.c_str();
  req.headers = headers.data();
  req.n_headers = headers.size();
  req.body = call.body.c_str();
  req.body_len = call.body.size();
  req.timeout_ms = static_cast<long>(call.timeout.count());
  req.no_proxy = call.no_proxy;
  req.ca_file = call.ca_file.empty() ? nullptr : call.ca_file.c_str();
  if (call.sign) {
    req.sigv4 = sigv4.c_str();
    req.access_key_id = call.sign->access_key_id.c_str();
    req.secret_access_key = call.sign->secret_access_key.reveal().c_str();
  }
  req.on_body = on_body;
  req.ctx = &resp.body;
  momento_auth_http_result result{};
  const momento_auth_http_outcome outcome = perform(&req, &result);
  resp.status = result.status;
  if (outcome == MOMENTO_AUTH_HTTP_NO_MEMORY) {
    wipe(resp.body);
    throw Error(ErrorCode::ClientResourceExhausted, result.error);
  }
  if (outcome != MOMENTO_AUTH_HTTP_OK) {
    wipe(resp.body);
    ErrorCode code = outcome == MOMENTO_AUTH_HTTP_TIMEOUT ? ErrorCode::Timeout : ErrorCode::Connection;
    throw Error(code, std::string(what) + " request failed: " + result.error);
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
