// AWS credentials, region and endpoint lookup from the environment and the shared files.
#include <cstdlib>

#include "../util/files.hpp"
#include "../util/encoding.hpp"
#include "aws_internal.hpp"
#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::aws {

void check_endpoint_url(std::string_view url, std::string_view name) {
  const size_t end = url.find("://");
  if (end == std::string_view::npos) return;
  if (url.substr(0, end) != "http" && url.substr(0, end) != "https")
    throw_invalid(std::string(name) + " must start with http:// or https://");
}

namespace impl {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

namespace {
std::string home_file(const char* override_var, const char* rel) {
  std::string o = env(override_var);
  if (!o.empty()) return o;
  std::string home = env("HOME");
  if (home.empty()) return {};
  return home + "/" + rel;
}

Ini load_ini(const std::string& path) {
  if (path.empty()) return {};
  try {
    std::string text = momento::auth::detail::read_regular_file(path, 1024 * 1024, "AWS config file");
    Ini out = parse_shared_file(text);
    wipe(text);
    return out;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::NotFound) return {};
    throw;
  }
}
}  // namespace

std::string config_path() { return home_file("AWS_CONFIG_FILE", ".aws/config"); }
std::string credentials_path() { return home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"); }
Ini load_config_file() { return load_ini(config_path()); }
Ini load_credentials_file() { return load_ini(credentials_path()); }

std::string profile_name(std::string_view profile) {
  if (!profile.empty()) return std::string(profile);
  std::string p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

const Section* config_section(const Ini& ini, const std::string& name) {
  auto it = ini.find(name == "default" ? "default" : "profile " + name);
  if (it == ini.end() && name == "default") it = ini.find("profile default");
  return it == ini.end() ? nullptr : &it->second;
}

std::string get(const Section* sec, const char* key) {
  if (!sec) return {};
  auto it = sec->find(key);
  return it == sec->end() ? std::string() : it->second;
}

namespace {
std::string normalise_endpoint(std::string e) {
  if (e.find("://") == std::string::npos) e = "https://" + e;
  while (!e.empty() && e.back() == '/') e.pop_back();
  check_endpoint_url(e, "the AWS endpoint URL");
  return e;
}
}  // namespace

std::string service_endpoint(const char* suffix, const std::string& fallback) {
  std::string e = env((std::string("AWS_ENDPOINT_URL_") + suffix).c_str());
  if (e.empty()) e = env("AWS_ENDPOINT_URL");
  if (e.empty()) e = fallback;
  return normalise_endpoint(e);
}

}  // namespace impl

using namespace impl;

Ini parse_shared_file(std::string_view text) {
  Ini out;
  std::string section;
  bool in_section = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(detail::trim_ascii_whitespace(text.substr(pos, nl - pos)));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      auto close = line.find(']');
      if (close == std::string::npos) {
        in_section = false;
        continue;
      }
      section = detail::trim_ascii_whitespace(std::string_view(line).substr(1, close - 1));
      in_section = true;
      out[section];
      continue;
    }
    if (!in_section) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;  // nested values (s3 = ...) are not needed here
    std::string key(detail::trim_ascii_whitespace(std::string_view(line).substr(0, eq)));
    std::string value(detail::trim_ascii_whitespace(std::string_view(line).substr(eq + 1)));
    if (!key.empty()) out[section][key] = value;
  }
  return out;
}

std::string resolve_region(std::string_view region, std::string_view profile) {
  if (!region.empty()) return std::string(region);
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string v = env(var);
    if (!v.empty()) return v;
  }
  std::string name = profile_name(profile);
  Ini cfg = load_config_file();
  std::string r = get(config_section(cfg, name), "region");
  if (!r.empty()) return r;
  throw_invalid("no AWS region: pass one, or set AWS_REGION, or 'region' in profile '" + name +
                "' of ~/.aws/config");
}

std::string resolve_endpoint(std::string_view endpoint, std::string_view region) {
  if (!endpoint.empty()) return normalise_endpoint(std::string(endpoint));
  if (region.empty() && env("AWS_ENDPOINT_URL_SECRETS_MANAGER").empty() && env("AWS_ENDPOINT_URL").empty())
    throw_invalid("resolve_endpoint: region is empty");
  return service_endpoint("SECRETS_MANAGER", "https://secretsmanager." + std::string(region) + ".amazonaws.com");
}

}  // namespace momento::auth::aws
