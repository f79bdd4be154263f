// AWS credentials, region and endpoint lookup from the environment and the shared files.
#include <cstdlib>

#include "../util/encoding.hpp"
#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string home_file(const char* override_var, const char* rel) {
  std::string o = env(override_var);
  if (!o.empty()) return o;
  std::string home = env("HOME");
  if (home.empty()) return {};
  return home + "/" + rel;
}

using Ini = std::map<std::string, std::map<std::string, std::string>>;

Ini load_ini(const std::string& path) {
  if (path.empty()) return {};
  try {
    std::string text = detail::read_small_file(path, 1024 * 1024);
    Ini out = parse_shared_file(text);
    wipe(text);
    return out;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::NotFound) return {};
    throw;
  }
}

std::string profile_name(std::string_view profile) {
  if (!profile.empty()) return std::string(profile);
  std::string p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

// The config file names non-default profiles "profile NAME".
const std::map<std::string, std::string>* config_section(const Ini& ini, const std::string& name) {
  auto it = ini.find(name == "default" ? "default" : "profile " + name);
  if (it == ini.end() && name == "default") it = ini.find("profile default");
  return it == ini.end() ? nullptr : &it->second;
}

std::string get(const std::map<std::string, std::string>* sec, const char* key) {
  if (!sec) return {};
  auto it = sec->find(key);
  return it == sec->end() ? std::string() : it->second;
}

}  // namespace

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

Credentials resolve_credentials(std::string_view profile) {
  // An explicitly named profile wins over the environment, as in the AWS SDKs.
  if (profile.empty()) {
    std::string id = env("AWS_ACCESS_KEY_ID");
    std::string secret = env("AWS_SECRET_ACCESS_KEY");
    if (!id.empty() && !secret.empty()) {
      Credentials c{id, Secret(secret), Secret(env("AWS_SESSION_TOKEN"))};
      wipe(secret);
      return c;
    }
  }
  std::string name = profile_name(profile);
  std::string cred_path = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  Ini creds = load_ini(cred_path);
  if (auto it = creds.find(name); it != creds.end()) {
    std::string id = get(&it->second, "aws_access_key_id");
    std::string secret = get(&it->second, "aws_secret_access_key");
    if (!id.empty() && !secret.empty())
      return Credentials{id, Secret(secret), Secret(get(&it->second, "aws_session_token"))};
  }
  std::string cfg_path = home_file("AWS_CONFIG_FILE", ".aws/config");
  Ini cfg = load_ini(cfg_path);
  if (auto* sec = config_section(cfg, name)) {
    std::string id = get(sec, "aws_access_key_id");
    std::string secret = get(sec, "aws_secret_access_key");
    if (!id.empty() && !secret.empty())
      return Credentials{id, Secret(secret), Secret(get(sec, "aws_session_token"))};
  }
  throw_invalid("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile '" +
                name + "' in " + (cred_path.empty() ? "~/.aws/credentials" : cred_path) + " or " +
                (cfg_path.empty() ? "~/.aws/config" : cfg_path));
}

std::string resolve_region(std::string_view region, std::string_view profile) {
  if (!region.empty()) return std::string(region);
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string v = env(var);
    if (!v.empty()) return v;
  }
  std::string name = profile_name(profile);
  Ini cfg = load_ini(home_file("AWS_CONFIG_FILE", ".aws/config"));
  std::string r = get(config_section(cfg, name), "region");
  if (!r.empty()) return r;
  throw_invalid("no AWS region: pass one, or set AWS_REGION, or 'region' in profile '" + name +
                "' of ~/.aws/config");
}

std::string resolve_endpoint(std::string_view endpoint, std::string_view region) {
  std::string e(endpoint);
  if (e.empty()) e = env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
  if (e.empty()) e = env("AWS_ENDPOINT_URL");
  if (e.empty()) {
    if (region.empty()) throw_invalid("resolve_endpoint: region is empty");
    e = "https://secretsmanager." + std::string(region) + ".amazonaws.com";
  }
  if (e.find("://") == std::string::npos) e = "https://" + e;
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

}  // namespace momento::auth::aws
