// The standard AWS credential chain: environment, web identity, container, profiles (role, SSO,
// static keys, credential_process) and EC2 instance metadata (IMDSv2).
#include <openssl/evp.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "../util/crypto.hpp"
#include "../util/encoding.hpp"
#include "../util/files.hpp"
#include "aws_internal.hpp"
#include "command.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/expiry.hpp"

namespace momento::auth::aws {
namespace {

using namespace impl;
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

// ISO 8601 / RFC 3339 UTC ("2024-01-01T00:00:00Z", fractions and "+00:00" allowed) to epoch s.
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
  } else if (*end != 'Z' && *end != 0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

std::string sha1_hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr) != 1)
    throw Error(ErrorCode::Unknown, "SHA-1 failed");
  return momento::auth::detail::hex(std::string_view(reinterpret_cast<char*>(md), len));
}

std::string json_string(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// The credential members of a JSON answer (container endpoint, IMDS, credential_process).
Credentials from_json(const nlohmann::json& j, const std::string& source, const char* token_key) {
  Credentials c;
  c.access_key_id = json_string(j, "AccessKeyId");
  c.secret_access_key = Secret(json_string(j, "SecretAccessKey"));
  c.session_token = Secret(json_string(j, token_key));
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    fail(ErrorCode::Unknown, source, "the answer has no AccessKeyId or SecretAccessKey");
  std::string exp = json_string(j, "Expiration");
  if (!exp.empty()) {
    c.expires_at = parse_time(exp);
    if (!c.expires_at) fail(ErrorCode::Unknown, source, "unreadable Expiration '" + exp + "'");
  }
  return c;
}

std::string body_error_summary(const std::string& body) {
  // AWS error bodies: XML <Code>/<Message> (STS) or JSON {"message"} (SSO). Never the whole body.
  auto tag = [&](const char* t) -> std::string {
    std::string open = std::string("<") + t + ">", close = std::string("</") + t + ">";
    auto a = body.find(open);
    if (a == std::string::npos) return {};
    a += open.size();
    auto b = body.find(close, a);
    return b == std::string::npos ? std::string() : body.substr(a, std::min<size_t>(b - a, 200));
  };
  std::string code = tag("Code"), msg = tag("Message");
  if (code.empty()) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    for (const char* k : {"__type", "code"}) if (code.empty()) code = json_string(j, k);
    for (const char* k : {"message", "Message"}) if (msg.empty()) msg = json_string(j, k);
    if (msg.size() > 200) msg.resize(200);
  }
  return code + (msg.empty() ? "" : ": " + msg);
}

// Sends `call`; a non-2xx answer is an error naming the status and the AWS error code.
std::string exchange(HttpCall& call, const std::string& source) {
  HttpResponse r = http_call(call, "AWS credentials from " + source);
  if (r.status >= 200 && r.status < 300) return std::move(r.body);
  std::string summary = body_error_summary(r.body);
  wipe(r.body);
  ErrorCode code = r.status == 401 || r.status == 403 ? ErrorCode::Authentication
                   : r.status >= 500                 ? ErrorCode::ServerUnavailable
                   : r.status == 404                 ? ErrorCode::NotFound
                                                     : ErrorCode::Unknown;
  fail(code, source, "HTTP " + std::to_string(r.status) + (summary.empty() ? "" : " " + summary));
}

// ---------------------------------------------------------------- STS

// The text of <tag> in an STS XML answer (the values it holds need no entity decoding beyond
// these five, and hold no nested elements).
std::string xml_value(const std::string& xml, const char* tag) {
  std::string open = std::string("<") + tag + ">", close = std::string("</") + tag + ">";
  auto a = xml.find(open);
  if (a == std::string::npos) return {};
  a += open.size();
  auto b = xml.find(close, a);
  if (b == std::string::npos) return {};
  std::string v = xml.substr(a, b - a), out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') { out.push_back(v[i]); continue; }
    static const std::pair<const char*, char> ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
                                                       {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (auto& [e, c] : ents)
      if (v.compare(i, std::strlen(e), e) == 0) { out.push_back(c); i += std::strlen(e) - 1; done = true; break; }
    if (!done) out.push_back('&');
  }
  wipe(v);
  return out;
}

std::string sts_region() {
  for (const char* v : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (!env(v).empty()) return env(v);
  std::string r = get(config_section(load_config_file(), profile_name({})), "region");
  return r;
}

Credentials sts_call(const std::string& source, std::string form, const Credentials* signer,
                     const CredentialChainOptions& o) {
  std::string region = sts_region();
  HttpCall call;
  call.url = service_endpoint("STS", region.empty() ? "https://sts.amazonaws.com"
                                                    : "https://sts." + region + ".amazonaws.com") + "/";
  call.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
  call.body = std::move(form);
  call.timeout = o.http_timeout;
  call.sign = signer;
  call.region = region.empty() ? "us-east-1" : region;
  call.service = "sts";
  std::string xml;
  try {
    xml = exchange(call, source);
  } catch (...) {
    wipe(call.body);
    throw;
  }
  wipe(call.body);
  Credentials c;
  c.access_key_id = xml_value(xml, "AccessKeyId");
  c.secret_access_key = Secret(xml_value(xml, "SecretAccessKey"));
  c.session_token = Secret(xml_value(xml, "SessionToken"));
  c.expires_at = parse_time(xml_value(xml, "Expiration"));
  wipe(xml);
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty())
    fail(ErrorCode::Unknown, source, "STS answered without credentials");
  return c;
}

std::string session_name(const std::string& configured) {
  return configured.empty() ? "momento-auth-" + std::to_string(now_epoch_seconds()) : configured;
}

Fetch web_identity(std::string token_file, std::string role_arn, std::string name,
                   const CredentialChainOptions& o) {
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
    return sts_call(source, std::move(form), nullptr, o);
  };
}

Fetch assume_role(Fetch base, const Section& prof, const CredentialChainOptions& o) {
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
                    &b, o);
  };
}

// ---------------------------------------------------------------- container, IMDS

bool link_local_or_loopback(const std::string& url) {
  auto sep = url.find("://");
  std::string rest = url.substr(sep + 3);
  std::string host = rest.substr(0, rest.find_first_of("/?#"));
  if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.find(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
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
    auto j = nlohmann::json::parse(body, nullptr, false);
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
  return [=]() {
    const std::string source = "instance metadata";
    auto call = [&](const char* method, const std::string& path, std::vector<std::string> headers) {
      for (int i = 1;; ++i) {
        HttpCall c;
        c.method = method;
        c.url = base + path;
        c.headers = headers;
        c.timeout = timeout;
        c.no_proxy = true;
        try {
          return exchange(c, source);
        } catch (const Error& e) {
          // Retry what may pass: no answer, or a server error.
          bool transient = e.code() == ErrorCode::Timeout || e.code() == ErrorCode::Connection ||
                           e.code() == ErrorCode::ServerUnavailable;
          if (i >= attempts || !transient) throw;
        }
      }
    };
    // IMDSv2: a session token first. Its response has an IP hop limit (1 by default), so from a
    // container behind an extra hop the PUT goes unanswered and this fails within the timeout.
    std::string token = call("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 21600"});
    std::string auth = "X-aws-ec2-metadata-token: " + token;
    wipe(token);
    std::string roles = call("GET", "/latest/meta-data/iam/security-credentials/", {auth});
    std::string role(momento::auth::detail::trim_ascii_whitespace(roles.substr(0, roles.find('\n'))));
    if (role.empty()) fail(ErrorCode::NotFound, source, "the instance has no IAM role");
    std::string body = call("GET", "/latest/meta-data/iam/security-credentials/" + role, {auth});
    wipe(auth);
    auto j = nlohmann::json::parse(body, nullptr, false);
    wipe(body);
    std::string code = json_string(j, "Code");
    if (!code.empty() && code != "Success") fail(ErrorCode::Unknown, source, "role " + role + ": " + code);
    return from_json(j, source + " (role " + role + ")", "Token");
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
      fail(r.timed_out ? ErrorCode::Timeout : ErrorCode::Unknown, source,
           "'" + argv[0] + "' " + momento::auth::detail::describe_failure(r, o.process_timeout));
    }
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    wipe(r.out);
    if (!j.is_object()) fail(ErrorCode::Unknown, source, "the output is not a JSON object");
    if (!j.contains("Version") || j["Version"] != 1)
      fail(ErrorCode::Unknown, source, "the output has no \"Version\": 1");
    return from_json(j, source, "SessionToken");
  };
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
  std::string url = service_endpoint("SSO", "https://portal.sso." + region + ".amazonaws.com") +
                    "/federation/credentials?account_id=" + form_escape(account) +
                    "&role_name=" + form_escape(role);
  return [=]() {
    const std::string source = "SSO for profile " + profile;
    const std::string relogin = "; run 'aws sso login --profile " + profile + "'";
    std::string text;
    try {
      text = momento::auth::detail::read_regular_file(cache, 256 * 1024, "SSO token cache");
    } catch (const Error& e) {
      fail(ErrorCode::Authentication, source, std::string("no cached SSO token (") + e.what() + ")" + relogin);
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    wipe(text);
    std::string token = json_string(j, "accessToken");
    auto expires = parse_time(json_string(j, "expiresAt"));
    if (j.is_object()) j.clear();
    if (token.empty() || !expires) fail(ErrorCode::Authentication, source, "the cached SSO token is unreadable" + relogin);
    if (*expires <= now_epoch_seconds()) fail(ErrorCode::Authentication, source, "the cached SSO token has expired" + relogin);
    HttpCall call;
    call.method = "GET";
    call.url = url;
    call.timeout = o.http_timeout;
    call.headers = {"x-amz-sso_bearer_token: " + token};
    wipe(token);
    std::string body = exchange(call, source);
    auto a = nlohmann::json::parse(body, nullptr, false);
    wipe(body);
    if (!a.is_object() || !a.contains("roleCredentials") || !a["roleCredentials"].is_object())
      fail(ErrorCode::Unknown, source, "the portal answered without roleCredentials");
    auto& rc = a["roleCredentials"];
    Credentials c;
    c.access_key_id = json_string(rc, "accessKeyId");
    c.secret_access_key = Secret(json_string(rc, "secretAccessKey"));
    c.session_token = Secret(json_string(rc, "sessionToken"));
    if (rc.contains("expiration") && rc["expiration"].is_number())
      c.expires_at = rc["expiration"].get<int64_t>() / 1000;  // milliseconds
    a.clear();
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      fail(ErrorCode::Unknown, source, "the portal answered without credentials");
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
                      web_identity(wif, role, get(&*sec, "role_session_name"), o)};
      } else {
        throw_invalid(label + ": role_arn needs source_profile, credential_source or web_identity_token_file");
      }
      return Source{label + " (assume role)", assume_role(base, *sec, o)};
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
      return {"web identity", web_identity(wif, role, env("AWS_ROLE_SESSION_NAME"), o)};
    if (!env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty() || !env("AWS_CONTAINER_CREDENTIALS_FULL_URI").empty())
      return {"container", container(o)};
  }
  std::string name = profile_name(explicit_profile);
  Profiles p{.o = o};
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
              throw Error(e.code() == ErrorCode::Timeout || e.code() == ErrorCode::Connection
                              ? ErrorCode::InvalidArgument : e.code(),
                          "no AWS credentials: not in the environment (AWS_ACCESS_KEY_ID, web identity, "
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
