// AWS configuration lookup (environment, shared files, profiles). Signatures (libcurl's) are
// checked against botocore in test_aws.py.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "momento/auth/aws.hpp"
#include "refresh_test_util.hpp"

using namespace momento::auth;
using namespace momento::auth::aws;
using namespace refresh_test;

namespace {

// Sets environment variables for a scope and restores them afterwards.
struct EnvGuard {
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  void set(const std::string& k, const std::optional<std::string>& v) {
    const char* old = std::getenv(k.c_str());
    saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
    if (v) ::setenv(k.c_str(), v->c_str(), 1);
    else ::unsetenv(k.c_str());
  }
  ~EnvGuard() {
    for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
      if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else ::unsetenv(it->first.c_str());
    }
  }
};

void clear_aws_env(EnvGuard& g) {
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"})
    g.set(v, std::nullopt);
}

}  // namespace

TEST_CASE("aws: shared file parsing", "[aws]") {
  auto ini = parse_shared_file(
      "# comment\n[default]\naws_access_key_id = AKIDEFAULT\naws_secret_access_key=sec ret \n\n"
      "[profile dev]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 2\n; other\n[broken\nx=y\n");
  CHECK(ini["default"]["aws_access_key_id"] == "AKIDEFAULT");
  CHECK(ini["default"]["aws_secret_access_key"] == "sec ret");
  CHECK(ini["profile dev"]["region"] == "eu-west-1");
  CHECK(ini.count("broken") == 0);
}

TEST_CASE("aws: credentials from the environment, then the profile in the shared files", "[aws]") {
  TempDir dir;
  EnvGuard g;
  clear_aws_env(g);
  std::ofstream(dir.file("credentials")) << "[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=filesecret\n"
                                            "[dev]\naws_access_key_id=AKIADEV\naws_secret_access_key=devsecret\n"
                                            "aws_session_token=devtoken\n";
  std::ofstream(dir.file("config")) << "[default]\nregion=us-east-2\n[profile cfgonly]\nregion=ap-south-1\n"
                                       "aws_access_key_id=AKIACFG\naws_secret_access_key=cfgsecret\n";
  g.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials"));
  g.set("AWS_CONFIG_FILE", dir.file("config"));

  auto c = resolve_credentials();
  CHECK(c.access_key_id == "AKIAFILE");
  CHECK(c.secret_access_key.reveal() == "filesecret");
  CHECK(c.session_token.empty());

  g.set("AWS_PROFILE", "dev");
  c = resolve_credentials();
  CHECK(c.access_key_id == "AKIADEV");
  CHECK(c.session_token.reveal() == "devtoken");

  CHECK(resolve_credentials("cfgonly").access_key_id == "AKIACFG");
  CHECK(resolve_region({}, "cfgonly") == "ap-south-1");

  g.set("AWS_ACCESS_KEY_ID", "AKIAENV");
  g.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  g.set("AWS_SESSION_TOKEN", "envtoken");
  c = resolve_credentials();
  CHECK(c.access_key_id == "AKIAENV");
  CHECK(c.session_token.reveal() == "envtoken");
  // An explicitly named profile wins over the environment.
  CHECK(resolve_credentials("default").access_key_id == "AKIAFILE");

  try {
    resolve_credentials("missing");
    FAIL("found credentials for a missing profile");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
    CHECK(std::string(e.what()).find("filesecret") == std::string::npos);
  }
}

TEST_CASE("aws: an endpoint override is http(s) or a bare host, whoever gives it", "[aws]") {
  EnvGuard g;
  clear_aws_env(g);
  CHECK_NOTHROW(check_endpoint_url("", "endpoint_url"));
  CHECK_NOTHROW(check_endpoint_url("http://127.0.0.1:5000", "endpoint_url"));
  CHECK_NOTHROW(check_endpoint_url("https://sm.internal", "endpoint_url"));
  CHECK_NOTHROW(check_endpoint_url("sm.internal:8443", "endpoint_url"));
  for (const char* bad : {"ftp://x", "file:///etc/passwd", "://x"}) {
    INFO(bad);
    CHECK_THROWS_WITH(check_endpoint_url(bad, "endpoint_url"),
                      "endpoint_url must start with http:// or https://");
    CHECK_THROWS_AS(resolve_endpoint(bad, "us-west-2"), Error);
  }
  g.set("AWS_ENDPOINT_URL", "ftp://127.0.0.1:4566");
  CHECK_THROWS_AS(resolve_endpoint({}, "us-west-2"), Error);
}

TEST_CASE("aws: region and endpoint resolution", "[aws]") {
  TempDir dir;
  EnvGuard g;
  clear_aws_env(g);
  g.set("AWS_CONFIG_FILE", dir.file("none"));
  CHECK_THROWS_AS(resolve_region(), Error);
  CHECK(resolve_region("eu-central-1") == "eu-central-1");
  g.set("AWS_DEFAULT_REGION", "us-west-1");
  CHECK(resolve_region() == "us-west-1");
  g.set("AWS_REGION", "us-west-2");
  CHECK(resolve_region() == "us-west-2");

  CHECK(resolve_endpoint({}, "us-west-2") == "https://secretsmanager.us-west-2.amazonaws.com");
  g.set("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/");
  CHECK(resolve_endpoint({}, "us-west-2") == "http://127.0.0.1:4566");
  g.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5000");
  CHECK(resolve_endpoint({}, "us-west-2") == "http://127.0.0.1:5000");
  CHECK(resolve_endpoint("sm.internal", "us-west-2") == "https://sm.internal");
}
