// Test helper: a local AWS Secrets Manager (moto, from the test venv that scripts/setup makes) on a
// free loopback port, plus boto3 access to its secrets for independent checks.
//
//   momento::test::MotoServer moto;        // starts it, waits for "listening on"
//   moto.endpoint();                       // "http://127.0.0.1:PORT"
//   moto.put_secret("team/key", file);     // create (or add a version) from a file's text
//   moto.get_secret("team/key");           // AWSCURRENT SecretString, read by boto3
//   momento::test::AwsTestEnv env(moto);   // AWS_* variables for this process and its children
//
// The process handling (bounded start and stop, reaping) is ServerProcess's.
#pragma once

#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace momento::test {

#if defined(MOMENTO_TEST_PYTHON) && defined(MOMENTO_MOTO_HELPER)
inline constexpr const char* kTestPython = MOMENTO_TEST_PYTHON;
inline constexpr const char* kMotoHelper = MOMENTO_MOTO_HELPER;
#else
inline constexpr const char* kTestPython = "python3";
inline constexpr const char* kMotoHelper = "moto_server.py";
#endif

class MotoServer {
 public:
  MotoServer() : proc_(options()) {}

  std::string endpoint() const { return "http://" + proc_.address(); }
  std::string log() const { return proc_.log(); }

  // The AWSCURRENT SecretString (throws when boto3 cannot read it).
  std::string get_secret(const std::string& id) const {
    std::string out;
    const int rc = run({"get", "--endpoint", endpoint(), "--secret-id", id}, &out);
    if (rc != 0) throw std::runtime_error("cannot read secret " + id + " from moto (exit " + std::to_string(rc) + ")");
    return out;
  }

  // Creates the secret with the text of `path`, or adds a version when it exists.
  void put_secret(const std::string& id, const std::string& path) const {
    const int rc = run({"put", "--endpoint", endpoint(), "--secret-id", id, "--from-file", path}, nullptr);
    if (rc != 0) throw std::runtime_error("cannot write secret " + id + " to moto (exit " + std::to_string(rc) + ")");
  }

 private:
  static ServerProcess::Options options() {
    if (::access(kTestPython, X_OK) != 0)
      throw std::runtime_error(std::string("test Python ") + kTestPython +
                               " not found: run scripts/setup (it installs moto)");
    ServerProcess::Options o;
    o.binary = kTestPython;
    o.leading_args = {kMotoHelper, "serve"};
    o.bootstrap = false;
    o.start_timeout = std::chrono::milliseconds(60000);  // moto imports take a while
    return o;
  }

  int run(std::vector<std::string> args, std::string* out) const {
    args.insert(args.begin(), {kTestPython, kMotoHelper});
    return ServerProcess::run_capture(args, out, std::chrono::seconds(60), proc_.log_path());
  }

  ServerProcess proc_;
};

// Points the AWS configuration of this process (and of the processes it starts) at a moto server
// with fixed test credentials and no real AWS files in reach; restores the previous values.
class AwsTestEnv {
 public:
  // `endpoint_var`: false leaves AWS_ENDPOINT_URL_SECRETS_MANAGER unset (for tests that pass the
  // endpoint explicitly).
  explicit AwsTestEnv(const MotoServer& moto, bool endpoint_var = true) {
    set("AWS_ACCESS_KEY_ID", "AKIDMOTOTEST");
    set("AWS_SECRET_ACCESS_KEY", "motosecret");
    set("AWS_SESSION_TOKEN", std::nullopt);
    set("AWS_PROFILE", std::nullopt);
    set("AWS_REGION", std::nullopt);
    set("AWS_DEFAULT_REGION", std::nullopt);
    set("AWS_ENDPOINT_URL", std::nullopt);
    set("AWS_ENDPOINT_URL_SECRETS_MANAGER",
        endpoint_var ? std::optional<std::string>(moto.endpoint()) : std::nullopt);
    set("AWS_CONFIG_FILE", "/nonexistent/momento-test/aws-config");
    set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/momento-test/aws-credentials");
    // Nothing else in the credential chain may answer instead of these keys.
    for (const char* v : {"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI"})
      set(v, std::nullopt);
    set("AWS_EC2_METADATA_DISABLED", "true");
  }
  ~AwsTestEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  AwsTestEnv(const AwsTestEnv&) = delete;
  AwsTestEnv& operator=(const AwsTestEnv&) = delete;

 private:
  void set(const std::string& name, const std::optional<std::string>& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) ::setenv(name.c_str(), value->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace momento::test
