// Shared by Secrets Manager, STS, the SSO portal, the container credentials endpoint and
// instance metadata: one HTTP exchange over libcurl, optionally SigV4-signed by libcurl
// (CURLOPT_AWS_SIGV4), and the shared config files. Internal.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::aws::impl {

struct HttpCall {
  std::string method = "POST";  // GET, PUT or POST
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; may hold secrets (wiped after the call)
  std::string body;
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;  // PEM roots; empty = system roots
  bool no_proxy = false;  // link-local metadata endpoints are reached directly
  // SigV4: when `sign` is set, libcurl signs for `region`/`service`; a session token is sent (and
  // signed) as X-Amz-Security-Token.
  const Credentials* sign = nullptr;
  std::string region, service;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // may be a secret: the caller wipes it
};

// Throws Error(Timeout) or Error(Connection) naming `what` ("Secrets Manager") and curl's reason,
// never the URL's query, a header or the body.
HttpResponse http_call(HttpCall& call, std::string_view what);

// An AWS error answer's code and message (truncated; never the whole body, which may echo the
// request). Query services (STS) answer XML <ErrorResponse><Error><Code>/<Message>; JSON services
// (SSO, SSO OIDC, Secrets Manager) {"__type"|"code"|"error", "message"}. Parses `body` in place:
// the caller wipes it afterwards. Empty fields when the body is neither.
struct AwsError {
  std::string code, message;
};
AwsError aws_error_of(std::string& body);

// The library's code for an AWS error answer: by the AWS error code when it says more than the
// HTTP status (STS answers 403 both for unknown keys and for a denied action), else the status.
ErrorCode code_for(long status, const std::string& aws_code);

// The credentials in an STS AssumeRole* answer (<XResponse><XResult><Credentials>); empty members
// when the answer has none. Parses `xml` in place: the caller wipes it afterwards.
Credentials sts_credentials_of(std::string& xml);

// ISO 8601 / RFC 3339 UTC ("2024-01-01T00:00:00Z", fractions and "+00:00" allowed, and the
// "...00UTC" botocore's JSON caches write) to epoch s.
std::optional<int64_t> parse_time(const std::string& s);

// application/x-www-form-urlencoded escaping for query and form values.
std::string form_escape(std::string_view s);

// ---- shared config / credentials files

using Ini = std::map<std::string, std::map<std::string, std::string>>;
using Section = std::map<std::string, std::string>;

std::string env(const char* name);  // "" when unset
Ini load_config_file();       // AWS_CONFIG_FILE or ~/.aws/config; {} when missing
Ini load_credentials_file();  // AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
std::string config_path();
std::string credentials_path();
std::string profile_name(std::string_view profile);  // the argument, AWS_PROFILE or "default"
// The profile's section in the config file ("profile NAME"; "default" as is).
const Section* config_section(const Ini& ini, const std::string& name);
std::string get(const Section* sec, const char* key);  // "" when absent

// The endpoint for an AWS service: AWS_ENDPOINT_URL_<SERVICE_ID> (e.g. STS, SSO), then
// AWS_ENDPOINT_URL, then the profile's endpoint_url in the config file (none of them when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's ignore_configured_endpoint_urls is true),
// else `fallback`. Normalised: scheme present, no trailing '/'; "" when all are empty.
// `profile`: "" = AWS_PROFILE or default. (Per-service `services` sections are not read.)
std::string service_endpoint(const char* service_env_suffix, const std::string& fallback,
                             std::string_view profile = {});

}  // namespace momento::auth::aws::impl
