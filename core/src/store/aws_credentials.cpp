// The standard AWS credential chain: environment, web identity, container, profiles (role, SSO,
// static keys, credential_process) and EC2 instance metadata (IMDSv2).
#include <openssl/evp.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "../util/crypto.hpp"
#include "../util/encoding.hpp"
#include "../util/files.hpp"
#include "../util/net.hpp"
#include "../util/secret_json.hpp"
#include "../util/time.hpp"
#include "aws_internal.hpp"
#include "command.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/expiry.hpp"
#include "momento/auth/store.hpp"

namespace momento::auth::aws {
namespace {

using namespace impl;
// Credential answers and caches hold secret keys, session tokens and SSO tokens: parsed into
// buffers that are wiped when freed.
using momento::auth::detail::format_utc;
using momento::auth::detail::parse_secret_json;
using momento::auth::detail::SecretJson;
using momento::auth::detail::WipedString;
using Fetch = std::function<Credentials()>;

struct Source {
  std::string name;  // shown in errors and by CredentialProvider::source()
  Fetch fetch;
};

[[noreturn]] void fail(ErrorCode code, const std::string& source, const std::string& why) {
  throw Error(code, "AWS credentials from " + source + ": " + why);
}

bool truthy(const std::string& v) {
  std::string l;
  for (char c : v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return l == "true" || l == "1";
}

std::string sha1_hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr) != 1)
    throw Error(ErrorCode::Unknown, "SHA-1 failed");
  return momento::auth::detail::hex(std::string_view(reinterpret_cast<char*>(md), len));
}

std::string json_string(const SecretJson& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? std::string(std::string_view(it->get_ref<const WipedString&>()))
                                          : std::string();
}

// The credential members of a JSON answer (container endpoint, IMDS, credential_process).
Credentials from_json(const SecretJson& j, const std::string& source, const char* token_key) {
  Credentials c;
  c.access_key_id = json_string(j, "AccessKeyId");
  c.secret_access_key = Secret(json_string(j, "SecretAccessKey"));
  c.session_token = Secret(json_string(j, token_key));
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    fail(ErrorCode::InternalServer, source, "the answer has no AccessKeyId or SecretAccessKey");
  std::string exp = json_string(j, "Expiration");
  if (!exp.empty()) {
    c.expires_at = parse_time(exp);
    if (!c.expires_at) fail(ErrorCode::InternalServer, source, "unreadable Expiration '" + exp + "'");
  }
  return c;
}

// Throws the error for a non-2xx answer, naming the status and the AWS error code; wipes the body.
[[noreturn]] void fail_http(HttpResponse& r, const std::string& source) {
  AwsError e = aws_error_of(r.body);
  wipe(r.body);
  std::string summary = e.code + (e.message.empty() ? "" : ": " + e.message);
  fail(code_for(r.status, e.code), source, "HTTP " + std::to_string(r.status) + (summary.empty() ? "" : " " + summary));
}

// Sends `call`; a non-2xx answer is an error naming the status and the AWS error code. The
// request body (it may hold a web identity token or a refresh token) is wiped either way.
std::string exchange(HttpCall& call, const std::string& source) {
  HttpResponse r;
  try {
    r = http_call(call, "AWS credentials from " + source);
  } catch (...) {
    wipe(call.body);
    throw;
  }
  wipe(call.body);
  if (r.status >= 200 && r.status < 300) return std::move(r.body);
  fail_http(r, source);
}

// ---------------------------------------------------------------- STS

std::string sts_region(const std::string& profile) {
  for (const char* v : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (!env(v).empty()) return env(v);
  std::string r = get(config_section(load_config_file(), profile_name(profile)), "region");
  return r;
}

// `profile`: the profile in use ("" = AWS_PROFILE or default), for its region and endpoint_url.
Credentials sts_call(const std::string& source, std::string form, const Credentials* signer,
                     const CredentialChainOptions& o, const std::string& profile) {
  std::string region = sts_region(profile);
  HttpCall call;
  call.url = service_endpoint("STS", region.empty() ? "https://sts.amazonaws.com"
                                                    : "https://sts." + region + ".amazonaws.com", profile) + "/";
  call.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
  call.body = std::move(form);
  call.timeout = o.http_timeout;
  call.sign = signer;
  call.region = region.empty() ? "us-east-1" : region;
  call.service = "sts";
  std::string xml = exchange(call, source);
  Credentials c = sts_credentials_of(xml);
  wipe(xml);
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty())
    fail(ErrorCode::InternalServer, source, "STS answered without credentials");
  if (!c.expires_at) fail(ErrorCode::InternalServer, source, "STS answered without a readable Expiration");
  return c;
}

std::string session_name(const std::string& configured) {
  return configured.empty() ? "momento-auth-" + std::to_string(now_epoch_seconds()) : configured;
}

Fetch web_identity(std::string token_file, std::string role_arn, std::string name,
                   const CredentialChainOptions& o, std::string profile) {
  return [=]() {
    const std::string source = "web identity (" + role_arn + ")";
    std::string token;
    try {
      token = std::string(momento::auth::detail::trim_ascii_whitespace(
          momento::auth::detail::read_regular_file(token_file, 64 * 1024, "web identity token file")));
    } catch (const Error& e) {
      fail(ErrorCode::InvalidArgument, source, e.what());
    }
    if (token.empty()) fail(ErrorCode::InvalidArgument, source, "the web identity token file is empty");
    std::string form = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_escape(role_arn) +
                       "&RoleSessionName=" + form_escape(session_name(name)) +
                       "&WebIdentityToken=" + form_escape(token);
    wipe(token);
    return sts_call(source, std::move(form), nullptr, o, profile);
  };
}

// A role whose profile has mfa_serial needs a one-time code per AssumeRole, and a daemon has no
// terminal to ask for one. The AWS CLI caches such a role's credentials after it prompted, in
// ~/.aws/cli/cache/<SHA-1 of AssumeRole's arguments as sorted JSON, with the session name only if
// configured>.json:
// those are used while they last; otherwise a clear error says what to run.
Fetch mfa_cached_role(const Section& prof, const std::string& profile) {
  std::map<std::string, nlohmann::json> args{{"RoleArn", get(&prof, "role_arn")},
                                             {"SerialNumber", get(&prof, "mfa_serial")}};
  if (std::string x = get(&prof, "external_id"); !x.empty()) args["ExternalId"] = x;
  if (std::string n = get(&prof, "role_session_name"); !n.empty()) args["RoleSessionName"] = n;
  if (std::string d = get(&prof, "duration_seconds"); !d.empty()) {
    char* end = nullptr;
    long long n = std::strtoll(d.c_str(), &end, 10);
    args["DurationSeconds"] = *end ? nlohmann::json(d) : nlohmann::json(n);
  }
  std::string key;  // Python's json.dumps(args, sort_keys=True)
  for (const auto& [k, v] : args)
    key += (key.empty() ? "{" : ", ") + nlohmann::json(k).dump() + ": " + v.dump(-1, ' ', true);
  key += "}";
  const std::string cache = env("HOME") + "/.aws/cli/cache/" + sha1_hex(key) + ".json";
  const std::string role = get(&prof, "role_arn");
  return [=]() {
    const std::string source = "assume role (" + role + ") with MFA";
    const std::string how = "profile " + profile + " has mfa_serial: AssumeRole needs a one-time MFA code, which a "
                            "daemon cannot prompt for. Run 'aws sts get-caller-identity --profile " + profile +
                            "' to enter one (the AWS CLI caches the role's credentials, used from there until they "
                            "expire), or give the daemon a profile without mfa_serial";
    std::string text;
    try {
      text = momento::auth::detail::read_regular_file(cache, 256 * 1024, "AWS CLI credential cache");
    } catch (const Error&) {
      fail(ErrorCode::Authentication, source, "no cached credentials; " + how);
    }
    auto j = parse_secret_json(text);
    wipe(text);
    Credentials c;
    if (j.is_object() && j.contains("Credentials") && j["Credentials"].is_object()) {
      const auto& cj = j["Credentials"];
      c.access_key_id = json_string(cj, "AccessKeyId");
      c.secret_access_key = Secret(json_string(cj, "SecretAccessKey"));
      c.session_token = Secret(json_string(cj, "SessionToken"));
      c.expires_at = parse_time(json_string(cj, "Expiration"));
    }
    if (j.is_object()) j.clear();
    if (c.access_key_id.empty() || c.secret_access_key.empty() || !c.expires_at)
      fail(ErrorCode::Authentication, source, "the cached credentials are unreadable; " + how);
    if (*c.expires_at <= now_epoch_seconds())
      fail(ErrorCode::Authentication, source, "the cached credentials have expired; " + how);
    return c;
  };
}

Fetch assume_role(Fetch base, const Section& prof, const CredentialChainOptions& o, const std::string& profile) {
  if (!get(&prof, "mfa_serial").empty()) return mfa_cached_role(prof, profile);
  std::string role = get(&prof, "role_arn");
  std::string form = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + form_escape(role);
  std::string external = get(&prof, "external_id");
  if (!external.empty()) form += "&ExternalId=" + form_escape(external);
  std::string duration = get(&prof, "duration_seconds");
  if (!duration.empty()) form += "&DurationSeconds=" + form_escape(duration);
  std::string name = get(&prof, "role_session_name");
  return [=]() {
    Credentials b = base();
    return sts_call("assume role (" + role + ")", form + "&RoleSessionName=" + form_escape(session_name(name)),
                    &b, o, profile);
  };
}

// ---------------------------------------------------------------- container, IMDS

bool link_local_or_loopback(const std::string& url) {
  auto sep = url.find("://");
  std::string rest = url.substr(sep + 3);
  std::string host = rest.substr(0, rest.find_first_of("/?#"));
  if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.find(':'));
  return detail::is_loopback_host(host) || host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

Fetch container(const CredentialChainOptions& o) {
  std::string rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  std::string url = !rel.empty() ? o.container_base + rel : env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  const std::string source = "the container credentials endpoint";
  auto scheme = url.substr(0, url.find("://"));
  if (url.find("://") == std::string::npos || (scheme != "http" && scheme != "https"))
    fail(ErrorCode::InvalidArgument, source, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
  if (scheme == "http" && rel.empty() && !link_local_or_loopback(url))
    fail(ErrorCode::InvalidArgument, source,
         "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https unless it names a loopback or the ECS/EKS "
         "link-local address");
  return [=]() {
    HttpCall call;
    call.method = "GET";
    call.url = url;
    call.timeout = o.http_timeout;
    call.no_proxy = scheme == "http";
    std::string tok;
    std::string file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (!file.empty()) {
      try {
        tok = std::string(momento::auth::detail::trim_ascii_whitespace(
            momento::auth::detail::read_regular_file(file, 16 * 1024, "container authorization token file")));
      } catch (const Error& e) {
        fail(ErrorCode::InvalidArgument, source, e.what());
      }
    } else {
      tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (tok.find_first_of("\r\n") != std::string::npos)
      fail(ErrorCode::InvalidArgument, source, "the authorization token holds a line break");
    if (!tok.empty()) call.headers.push_back("Authorization: " + tok);
    wipe(tok);
    std::string body = exchange(call, source);
    auto j = parse_secret_json(body);
    wipe(body);
    Credentials c = from_json(j, source, "Token");
    if (j.is_object()) j.clear();
    return c;
  };
}

int env_int(const char* name, int dflt, int lo, int hi) {
  std::string v = env(name);
  if (v.empty()) return dflt;
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (*end || n < lo || n > hi) throw_invalid(std::string(name) + " must be an integer from " + std::to_string(lo) +
                                              " to " + std::to_string(hi));
  return static_cast<int>(n);
}

Fetch instance_metadata(const CredentialChainOptions& o) {
  std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = o.imds_endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const auto timeout = std::chrono::milliseconds(1000 * env_int("AWS_METADATA_SERVICE_TIMEOUT", 1, 1, 3600));
  const int attempts = env_int("AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 1, 10);
  std::string no_v1 = env("AWS_EC2_METADATA_V1_DISABLED");
  if (no_v1.empty()) no_v1 = get(config_section(load_config_file(), profile_name({})), "ec2_metadata_v1_disabled");
  const bool v1_disabled = truthy(no_v1);
  return [=]() {
    const std::string source = "instance metadata";
    // One request, sent again while it may pass (no answer, a server error); the last answer.
    auto send = [&](const char* method, const std::string& path, const std::vector<std::string>& headers) {
      for (int i = 1;; ++i) {
        HttpCall c;
        c.method = method;
        c.url = base + path;
        c.headers = headers;
        c.timeout = timeout;
        c.no_proxy = true;
        try {
          HttpResponse r = http_call(c, "AWS credentials from " + source);
          if (r.status < 500 || i >= attempts) return r;
          wipe(r.body);
        } catch (const Error&) {
          if (i >= attempts) throw;
        }
      }
    };
    // IMDSv2: a session token first. As AWS SDKs do, IMDSv1 (no token) is tried instead when the
    // token request is refused (403, as IMDS answers a proxied request; 404 or 405 where tokens
    // are unknown), fails on the server's side, or goes unanswered: the token's answer carries an
    // IP hop limit (1 by default) and never reaches a container behind an extra hop. Unless IMDSv1
    // is disabled (AWS_EC2_METADATA_V1_DISABLED or the profile's ec2_metadata_v1_disabled).
    // The session token's header, wiped on every way out (each call's copy is wiped by http_call).
    struct WipedHeaders {
      std::vector<std::string> v;
      ~WipedHeaders() {
        for (auto& h : v) wipe(h);
      }
    } auth;
    std::string why_v1;
    try {
      HttpResponse r = send("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 21600"});
      if (r.status == 200) {
        auth.v.push_back("X-aws-ec2-metadata-token: " + r.body);
        wipe(r.body);
      } else if (r.status == 403 || r.status == 404 || r.status == 405 || r.status >= 500) {
        if (v1_disabled) fail_http(r, source + " (IMDSv2 token; IMDSv1 is disabled)");
        wipe(r.body);
        why_v1 = "the IMDSv2 token request was refused with HTTP " + std::to_string(r.status);
      } else {
        fail_http(r, source + " (IMDSv2 token)");
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::Timeout && e.code() != ErrorCode::Connection) throw;
      why_v1 = std::string("the IMDSv2 token request failed (") + e.what() + ")";
      if (v1_disabled) fail(e.code(), source, why_v1 + " and IMDSv1 is disabled");
    }
    const std::string via = auth.v.empty() ? source + " (IMDSv1, as " + why_v1 + ")" : source;
    auto read = [&](const std::string& path) {
      HttpResponse r = send("GET", path, auth.v);
      if (r.status < 200 || r.status >= 300) fail_http(r, via);
      return std::move(r.body);
    };
    std::string roles = read("/latest/meta-data/iam/security-credentials/");
    std::string role(momento::auth::detail::trim_ascii_whitespace(roles.substr(0, roles.find('\n'))));
    if (role.empty()) fail(ErrorCode::NotFound, via, "the instance has no IAM role");
    std::string body = read("/latest/meta-data/iam/security-credentials/" + role);
    auto j = parse_secret_json(body);
    wipe(body);
    std::string code = json_string(j, "Code");
    if (!code.empty() && code != "Success") fail(ErrorCode::ServerUnavailable, via, "role " + role + ": " + code);
    return from_json(j, via + " (role " + role + ")", "Token");
  };
}

// ---------------------------------------------------------------- profiles

Fetch credential_process(std::string line, std::string profile, const CredentialChainOptions& o) {
  std::vector<std::string> argv = momento::auth::detail::split_command_line(line);
  if (argv.empty()) throw_invalid("profile " + profile + ": credential_process is empty");
  return [=]() {
    const std::string source = "credential_process of profile " + profile;
    auto r = momento::auth::detail::run_command(argv, {}, o.process_timeout);
    if (r.timed_out || r.signal || r.exit_code != 0) {
      wipe(r.out);
      fail(r.timed_out ? ErrorCode::Timeout : ErrorCode::Authentication, source,
           "'" + argv[0] + "' " + momento::auth::detail::describe_failure(r, o.process_timeout));
    }
    auto j = parse_secret_json(r.out);
    wipe(r.out);
    if (!j.is_object()) fail(ErrorCode::InternalServer, source, "the output is not a JSON object");
    if (!j.contains("Version") || j["Version"] != 1)
      fail(ErrorCode::InternalServer, source, "the output has no \"Version\": 1");
    return from_json(j, source, "SessionToken");
  };
}

// Renews an SSO session's access token as AWS SDKs do: SSO OIDC CreateToken with the refresh
// token and client registration the AWS CLI cached at login, written back to that cache. Returns
// the new token; `cached` is the cache file's JSON, updated in place.
std::string renew_sso_token(SecretJson& cached, const std::string& cache_path, const std::string& oidc_url,
                            const std::string& source, const CredentialChainOptions& o) {
  HttpCall call;
  call.url = oidc_url + "/token";
  call.headers = {"Content-Type: application/json"};
  SecretJson request{{"grantType", "refresh_token"}};
  for (const char* name : {"clientId", "clientSecret", "refreshToken"})
    if (auto it = cached.find(name); it != cached.end() && it->is_string()) request[name] = *it;
    else request[name] = "";
  call.body = std::string(std::string_view(request.dump()));
  call.timeout = o.http_timeout;
  const std::string what = source + ", SSO OIDC CreateToken";
  std::string body = exchange(call, what);
  auto a = parse_secret_json(body);
  wipe(body);
  std::string token = json_string(a, "accessToken");
  const bool has_ttl = a.is_object() && a.contains("expiresIn") && a["expiresIn"].is_number_integer();
  const int64_t ttl = has_ttl ? a["expiresIn"].get<int64_t>() : 0;
  if (token.empty() || ttl <= 0)
    fail(ErrorCode::InternalServer, source, "SSO OIDC CreateToken answered without accessToken and expiresIn");
  cached["accessToken"] = token;
  cached["expiresAt"] = format_utc(now_epoch_seconds() + ttl);
  if (std::string next = json_string(a, "refreshToken"); !next.empty()) cached["refreshToken"] = next;
  a.clear();
  // Refresh tokens may be single-use: the new one must be kept, or the next renewal fails.
  const WipedString text = cached.dump();
  try {
    atomic_write_file(cache_path, text, 0600);
  } catch (const Error& e) {
    fail(e.code(), source, std::string("the renewed SSO token cannot be written back: ") + e.what());
  }
  return token;
}

Fetch sso(const Section& prof, const Ini& cfg, const std::string& profile, const CredentialChainOptions& o) {
  std::string session = get(&prof, "sso_session");
  std::string start_url = get(&prof, "sso_start_url"), region = get(&prof, "sso_region");
  std::string cache_key = start_url;
  if (!session.empty()) {
    auto it = cfg.find("sso-session " + session);
    if (it == cfg.end()) throw_invalid("profile " + profile + ": no [sso-session " + session + "] section");
    start_url = get(&it->second, "sso_start_url");
    region = get(&it->second, "sso_region");
    cache_key = session;
  }
  std::string account = get(&prof, "sso_account_id"), role = get(&prof, "sso_role_name");
  if (start_url.empty() || region.empty() || account.empty() || role.empty())
    throw_invalid("profile " + profile + ": SSO needs sso_start_url, sso_region, sso_account_id and sso_role_name");
  std::string home = env("HOME");
  std::string cache = home + "/.aws/sso/cache/" + sha1_hex(cache_key) + ".json";
  std::string url = service_endpoint("SSO", "https://portal.sso." + region + ".amazonaws.com", profile) +
                    "/federation/credentials?account_id=" + form_escape(account) +
                    "&role_name=" + form_escape(role);
  // Only an sso-session login caches a refresh token (the legacy form has none to renew with).
  std::string oidc = session.empty() ? std::string()
                                     : service_endpoint("SSO_OIDC", "https://oidc." + region + ".amazonaws.com", profile);
  return [=]() {
    const std::string source = "SSO for profile " + profile;
    const std::string relogin = "; run 'aws sso login --profile " + profile + "'";
    std::string text;
    try {
      text = momento::auth::detail::read_regular_file(cache, 256 * 1024, "SSO token cache");
    } catch (const Error& e) {
      fail(ErrorCode::Authentication, source, std::string("no cached SSO token (") + e.what() + ")" + relogin);
    }
    auto j = parse_secret_json(text);
    wipe(text);
    std::string token = json_string(j, "accessToken");
    auto expires = parse_time(json_string(j, "expiresAt"));
    const int64_t now = now_epoch_seconds();
    // Renewed within 15 minutes of its expiry, as AWS SDKs do, while the client registration
    // lasts; a failed renewal of a token still valid keeps that token.
    auto registration = parse_time(json_string(j, "registrationExpiresAt"));
    const bool renewable = !oidc.empty() && !json_string(j, "refreshToken").empty() &&
                           !json_string(j, "clientId").empty() && !json_string(j, "clientSecret").empty() &&
                           (!registration || *registration > now);
    if (renewable && (!expires || *expires - now < 15 * 60)) {
      try {
        std::string renewed = renew_sso_token(j, cache, oidc, source, o);
        wipe(token);
        token = std::move(renewed);
        expires = parse_time(json_string(j, "expiresAt"));
      } catch (const Error& e) {
        if (!expires || *expires <= now)
          fail(e.code(), source, std::string("the cached SSO token has expired and renewing it failed (") +
                                     e.what() + ")" + relogin);
      }
    }
    if (j.is_object()) j.clear();
    if (token.empty() || !expires) fail(ErrorCode::Authentication, source, "the cached SSO token is unreadable" + relogin);
    if (*expires <= now)
      fail(ErrorCode::Authentication, source,
           std::string("the cached SSO token has expired") +
               (oidc.empty() ? "" : " and cannot be renewed (no refresh token, or its client registration expired)") +
               relogin);
    HttpCall call;
    call.method = "GET";
    call.url = url;
    call.timeout = o.http_timeout;
    call.headers.push_back("x-amz-sso_bearer_token: " + token);  // moved in: no copy left behind
    wipe(token);
    std::string body = exchange(call, source);
    auto a = parse_secret_json(body);
    wipe(body);
    if (!a.is_object() || !a.contains("roleCredentials") || !a["roleCredentials"].is_object())
      fail(ErrorCode::InternalServer, source, "the portal answered without roleCredentials");
    auto& rc = a["roleCredentials"];
    Credentials c;
    c.access_key_id = json_string(rc, "accessKeyId");
    c.secret_access_key = Secret(json_string(rc, "secretAccessKey"));
    c.session_token = Secret(json_string(rc, "sessionToken"));
    if (rc.contains("expiration") && rc["expiration"].is_number())
      c.expires_at = rc["expiration"].get<int64_t>() / 1000;  // milliseconds
    a.clear();
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      fail(ErrorCode::InternalServer, source, "the portal answered without credentials");
    return c;
  };
}

Credentials static_keys(const Section& s) {
  return Credentials{get(&s, "aws_access_key_id"), Secret(get(&s, "aws_secret_access_key")),
                     Secret(get(&s, "aws_session_token")), std::nullopt};
}

bool env_keys_present() { return !env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty(); }

Credentials env_keys() {
  std::string secret = env("AWS_SECRET_ACCESS_KEY");
  Credentials c{env("AWS_ACCESS_KEY_ID"), Secret(secret), Secret(env("AWS_SESSION_TOKEN")), std::nullopt};
  wipe(secret);
  std::string exp = env("AWS_CREDENTIAL_EXPIRATION");
  if (!exp.empty()) c.expires_at = parse_time(exp);
  return c;
}

struct Profiles {
  Ini creds = load_credentials_file();
  Ini cfg = load_config_file();
  const CredentialChainOptions& o;
  std::string top;  // the profile asked for: its region and endpoint_url apply along its chain

  // The profile's settings: the config file's, overridden by the credentials file's.
  std::optional<Section> section(const std::string& name) const {
    std::optional<Section> out;
    if (auto* c = config_section(cfg, name)) out = *c;
    if (auto it = creds.find(name); it != creds.end()) {
      if (!out) out.emplace();
      for (auto& [k, v] : it->second) (*out)[k] = v;
    }
    return out;
  }

  // The source a profile names, or nullopt when it names none. `chain` guards against cycles.
  std::optional<Source> source(const std::string& name, std::set<std::string>& chain) const {
    auto sec = section(name);
    if (!sec) return std::nullopt;
    if (!chain.insert(name).second) throw_invalid("profile " + name + ": source_profile forms a cycle");
    const std::string label = "profile " + name;
    std::string role = get(&*sec, "role_arn");
    bool has_keys = !get(&*sec, "aws_access_key_id").empty() && !get(&*sec, "aws_secret_access_key").empty();
    // A profile used as another's source_profile uses its own static keys when it has them.
    if (!role.empty() && !(chain.size() > 1 && has_keys)) {
      std::string src = get(&*sec, "source_profile"), cs = get(&*sec, "credential_source");
      std::string wif = get(&*sec, "web_identity_token_file");
      Fetch base;
      if (!src.empty()) {
        auto b = src == name ? std::optional<Source>(Source{label, [s = *sec] { return static_keys(s); }})
                             : source(src, chain);
        if (!b) throw_invalid(label + ": source_profile " + src + " not found");
        base = b->fetch;
      } else if (cs == "Environment") {
        base = [] {
          if (!env_keys_present()) throw_invalid("credential_source Environment: AWS_ACCESS_KEY_ID is not set");
          return env_keys();
        };
      } else if (cs == "Ec2InstanceMetadata") {
        base = instance_metadata(o);
      } else if (cs == "EcsContainer") {
        base = container(o);
      } else if (!wif.empty()) {
        return Source{label + " (web identity)",
                      web_identity(wif, role, get(&*sec, "role_session_name"), o, top)};
      } else {
        throw_invalid(label + ": role_arn needs source_profile, credential_source or web_identity_token_file");
      }
      return Source{label + " (assume role)", assume_role(base, *sec, o, top)};
    }
    if (!get(&*sec, "sso_session").empty() || !get(&*sec, "sso_start_url").empty())
      return Source{label + " (sso)", sso(*sec, cfg, name, o)};
    if (has_keys) return Source{label, [s = *sec] { return static_keys(s); }};
    std::string process = get(&*sec, "credential_process");
    if (!process.empty()) return Source{label + " (credential_process)", credential_process(process, name, o)};
    return std::nullopt;
  }
};

Source choose(const std::string& explicit_profile, const CredentialChainOptions& o) {
  if (explicit_profile.empty()) {
    if (env_keys_present()) return {"environment", env_keys};
    std::string wif = env("AWS_WEB_IDENTITY_TOKEN_FILE"), role = env("AWS_ROLE_ARN");
    if (!wif.empty() && !role.empty())
      return {"web identity", web_identity(wif, role, env("AWS_ROLE_SESSION_NAME"), o, "")};
    if (!env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty() || !env("AWS_CONTAINER_CREDENTIALS_FULL_URI").empty())
      return {"container", container(o)};
  }
  std::string name = profile_name(explicit_profile);
  Profiles p{.o = o, .top = name};
  std::set<std::string> chain;
  if (auto s = p.source(name, chain)) return *s;
  std::string looked = "profile '" + name + "' in " +
                       (credentials_path().empty() ? "~/.aws/credentials" : credentials_path()) + " or " +
                       (config_path().empty() ? "~/.aws/config" : config_path());
  if (!explicit_profile.empty()) throw_invalid("no AWS credentials in " + looked);
  if (truthy(env("AWS_EC2_METADATA_DISABLED")))
    throw_invalid("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a web identity, "
                  "container credentials, or " + looked + " (instance metadata is disabled)");
  Fetch imds = instance_metadata(o);
  return {"instance metadata", [imds, looked] {
            try {
              return imds();
            } catch (const Error& e) {
              // The last link: say what else was looked at, so "no credentials" reads as such.
              // Its code stays: an IMDS outage is a CONNECTION_ERROR or TIMEOUT_ERROR, retryable.
              throw Error(e.code(), "no AWS credentials: not in the environment (AWS_ACCESS_KEY_ID, web identity, "
                          "container) nor " + looked + ", and " + e.what());
            }
          }};
}

}  // namespace

struct CredentialProvider::Impl {
  std::string profile;
  CredentialChainOptions opt;
  std::mutex m;  // one fetch at a time; callers wait for a fetch in progress, else only for the copy
  std::optional<Source> source;
  std::optional<Credentials> cached;
};

CredentialProvider::CredentialProvider(std::string profile, CredentialChainOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (options.http_timeout.count() <= 0 || options.process_timeout.count() <= 0)
    throw_invalid("AWS credentials: timeouts must be positive");
  impl_->profile = std::move(profile);
  impl_->opt = std::move(options);
}

CredentialProvider::~CredentialProvider() = default;

std::string CredentialProvider::source() const {
  std::lock_guard<std::mutex> g(impl_->m);
  return impl_->source ? impl_->source->name : std::string();
}

Credentials CredentialProvider::get() {
  std::lock_guard<std::mutex> g(impl_->m);
  Impl& im = *impl_;
  const int64_t now = now_epoch_seconds();
  auto fresh = [&](const Credentials& c) {
    return !c.expires_at || *c.expires_at - now > im.opt.refresh_margin.count();
  };
  if (im.cached && fresh(*im.cached)) return *im.cached;
  if (!im.source) im.source = choose(im.profile, im.opt);
  try {
    Credentials c = im.source->fetch();
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      fail(ErrorCode::InvalidArgument, im.source->name, "incomplete credentials");
    if (c.expires_at && *c.expires_at <= now)
      fail(ErrorCode::Authentication, im.source->name, "the credentials it gave have already expired");
    im.cached = c;
    return c;
  } catch (const Error&) {
    // Static stability: credentials that have not expired yet still work.
    if (im.cached && im.cached->expires_at && *im.cached->expires_at > now + 10) return *im.cached;
    throw;
  }
}

Credentials resolve_credentials(std::string_view profile) {
  return CredentialProvider(std::string(profile)).get();
}

}  // namespace momento::auth::aws
