// AWS Signature Version 4 for the Secrets Manager JSON protocol.
#include <algorithm>
#include <cctype>
#include <ctime>

#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::aws {
namespace {

struct UrlParts {
  std::string scheme, host_header, path, query;
};

UrlParts split_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) throw_invalid("sign_v4: URL has no scheme: " + std::string(url));
  UrlParts u;
  u.scheme = std::string(url.substr(0, sep));
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), ::tolower);
  std::string_view rest = url.substr(sep + 3);
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  if (authority.empty()) throw_invalid("sign_v4: URL has no host: " + std::string(url));
  // The default port is not part of the Host header (curl and botocore both drop it).
  std::string host(authority);
  if ((u.scheme == "https" && host.size() > 4 && host.ends_with(":443")) ||
      (u.scheme == "http" && host.size() > 3 && host.ends_with(":80")))
    host = host.substr(0, host.rfind(':'));
  u.host_header = host;
  std::string_view pq = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  auto q = pq.find('?');
  u.path = std::string(pq.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(pq.substr(q + 1));
  if (u.path.empty()) u.path = "/";
  return u;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xf]);
    }
  }
  return out;
}

// Query parameters are taken as already percent-encoded; they are only sorted.
std::string canonical_query(const std::string& query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string kv = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    params.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Trims and collapses runs of spaces, as SigV4 canonical header values require.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool valid_amz_date(std::string_view d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  return true;
}

// Headers that proxies may change and that AWS SDKs leave unsigned.
bool unsigned_header(const std::string& lname) {
  return lname == "user-agent" || lname == "expect" || lname == "transfer-encoding" ||
         lname == "x-amzn-trace-id" || lname == "authorization";
}

}  // namespace

std::string amz_date(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void sign_v4(HttpRequest& request, const Credentials& credentials, std::string_view region,
             std::string_view service, std::string_view date) {
  if (credentials.access_key_id.empty()) throw_invalid("sign_v4: access key id is empty");
  if (credentials.secret_access_key.empty()) throw_invalid("sign_v4: secret access key is empty");
  if (region.empty()) throw_invalid("sign_v4: region is empty");
  if (service.empty()) throw_invalid("sign_v4: service is empty");
  if (!valid_amz_date(date)) throw_invalid("sign_v4: date must be YYYYMMDDTHHMMSSZ");
  if (request.method.empty()) throw_invalid("sign_v4: method is empty");
  UrlParts url = split_url(request.url);

  // Drop headers this function owns, then add them fresh (re-signing must not duplicate them).
  std::erase_if(request.headers, [](const auto& h) {
    auto n = lower(h.first);
    return n == "x-amz-date" || n == "x-amz-security-token" || n == "authorization";
  });
  bool has_host = std::any_of(request.headers.begin(), request.headers.end(),
                              [](const auto& h) { return lower(h.first) == "host"; });
  if (!has_host) request.headers.insert(request.headers.begin(), {"Host", url.host_header});
  request.headers.emplace_back("X-Amz-Date", std::string(date));
  if (!credentials.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token.reveal());

  std::map<std::string, std::string> canon;  // sorted by lower-case name
  for (const auto& [name, value] : request.headers) {
    std::string n = lower(name);
    if (unsigned_header(n)) continue;
    std::string v = canonical_value(value);
    auto it = canon.find(n);
    if (it == canon.end()) canon.emplace(n, v);
    else it->second += "," + v;
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [n, v] : canon) {
    canonical_headers += n + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += n;
  }
  std::string payload_hash = detail::hex(detail::sha256(request.body));
  std::string canonical_request = request.method + "\n" + uri_encode(url.path, true) + "\n" +
                                  canonical_query(url.query) + "\n" + canonical_headers + "\n" +
                                  signed_headers + "\n" + payload_hash;
  std::string day(date.substr(0, 8));
  std::string scope = day + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  std::string string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(date) + "\n" + scope + "\n" +
                               detail::hex(detail::sha256(canonical_request));

  std::string k = detail::hmac_sha256("AWS4" + credentials.secret_access_key.reveal(), day);
  std::string k_region = detail::hmac_sha256(k, region);
  wipe(k);
  std::string k_service = detail::hmac_sha256(k_region, service);
  wipe(k_region);
  std::string k_signing = detail::hmac_sha256(k_service, "aws4_request");
  wipe(k_service);
  std::string signature = detail::hex(detail::hmac_sha256(k_signing, string_to_sign));
  wipe(k_signing);

  request.headers.emplace_back(
      "Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                           ", SignedHeaders=" + signed_headers + ", Signature=" + signature);
}

HttpRequest secrets_manager_request(std::string_view endpoint, std::string_view action,
                                    std::string body) {
  if (endpoint.empty()) throw_invalid("secrets_manager_request: endpoint is empty");
  if (action.empty()) throw_invalid("secrets_manager_request: action is empty");
  HttpRequest r;
  r.method = "POST";
  r.url = std::string(endpoint) + "/";
  r.headers = {{"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "secretsmanager." + std::string(action)}};
  r.body = std::move(body);
  return r;
}

}  // namespace momento::auth::aws
