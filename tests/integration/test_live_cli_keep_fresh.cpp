// momento-auth keep-fresh and watch against a real momento-auth-server, in separate processes.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"
#include "moto_process.hpp"

using momento::test::AwsTestEnv;
using momento::test::MotoServer;
using momento::test::ServerProcess;
using namespace momento::testing;
using nlohmann::json;

namespace {

struct Fixture {
  ServerProcess server;
  TempDir dir;
  std::string store = dir.file("token.json");

  std::vector<std::string> global() const { return {"--endpoint", server.address(), "--insecure"}; }
  CliResult cli(std::vector<std::string> args) {
    std::vector<std::string> all = global();
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(dir, all);
  }
  void mint(const std::string& expires_in) {
    CliResult r = cli({"--key-file", server.bootstrap_path(), "generate", "--scope",
                       "all-data-read-write", "--expires-in", expires_in, "--out", store, "--force"});
    INFO(r.err);
    REQUIRE(r.rc == 0);
  }
  std::string auth_token() const { return json::parse(slurp(store)).at("authToken"); }
};

}  // namespace

TEST_CASE("cli keep-fresh --once: not due, forced rotation, and failures", "[live][cli][keep-fresh]") {
  Fixture f;
  f.mint("12h");
  const std::string first = f.auth_token();

  // Not due for a 12 h key: exit 0, the store is unchanged.
  CliResult idle = f.cli({"--json", "keep-fresh", "--store", "file:" + f.store, "--once"});
  INFO(idle.err);
  REQUIRE(idle.rc == 0);
  auto ev = json_lines(idle.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "current");
  CHECK(f.auth_token() == first);

  // --force rotates: new key and refresh token in the store, file mode kept, the new key works.
  CliResult forced = f.cli({"--json", "keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  INFO(forced.err);
  REQUIRE(forced.rc == 0);
  ev = json_lines(forced.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "refreshed");
  CHECK(ev[0].at("replay") == false);
  CHECK(ev[0].at("store") == "file:" + f.store);
  CHECK(ev[0].at("expires") == true);
  const std::string second = f.auth_token();
  CHECK(second != first);
  CHECK(file_mode(f.store) == 0600);
  CHECK(forced.out.find(second) == std::string::npos);
  CHECK(forced.out.find(ServerProcess::envelope_raw_key(second)) == std::string::npos);
  CHECK(f.cli({"--key-file", f.store, "cache", "list-caches"}).rc == 0);
  // The old key's refresh token was consumed; the new one refreshes again (text output).
  CliResult text = f.cli({"keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  REQUIRE(text.rc == 0);
  CHECK(text.out.find(" refreshed file:" + f.store) != std::string::npos);
  CHECK(f.auth_token() != second);

  // Usage and input errors.
  CHECK(f.cli({"keep-fresh", "--store", "file:" + f.store, "--force"}).rc == 3);
  CHECK(f.cli({"keep-fresh"}).rc == 2);
  CHECK(f.cli({"keep-fresh", "--store", "env:MOMENTO_API_KEY", "--once"}).rc == 3);

  // The server down: exit 5, the store keeps its key.
  const std::string kept = f.auth_token();
  const std::string addr = f.server.address();
  f.server.stop();
  CliResult down = run_cli(f.dir, {"--endpoint", addr, "--insecure", "--timeout", "3s", "--json",
                                   "keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  CHECK(down.rc == 5);
  ev = json_lines(down.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "failed");
  CHECK(ev[0].at("error_code") == "SERVER_UNAVAILABLE");
  CHECK(ev[0].at("retryable") == true);
  CHECK(ev[0].at("replay") == false);
  CHECK(f.auth_token() == kept);
}

TEST_CASE("cli keep-fresh daemon: refreshes a short-lived key and stops on SIGTERM",
          "[live][cli][keep-fresh]") {
  Fixture f;
  f.mint("8s");
  const std::string first = f.auth_token();
  std::vector<std::string> args = f.global();
  for (const char* a : {"--json", "keep-fresh", "--refresh-fraction", "0.25", "--store"})
    args.push_back(a);
  args.push_back("file:" + f.store);
  Background daemon(f.dir, "daemon", args);
  // First line: the key adopted from the store; then a refresh after 2 s of the 8 s lifetime.
  REQUIRE(daemon.wait_lines(2, std::chrono::seconds(20)));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(std::chrono::seconds(10)) == 0);
  INFO(daemon.err());
  auto ev = json_lines(daemon.out());
  REQUIRE(ev.size() >= 3);
  CHECK(ev.front().at("event") == "adopted");
  CHECK(ev[1].at("event") == "refreshed");
  CHECK(ev.back().at("event") == "stopped");
  CHECK(ev.back().at("signal") == "SIGTERM");
  CHECK(f.auth_token() != first);
  CHECK(daemon.out().find(f.auth_token()) == std::string::npos);
  CHECK(f.cli({"--key-file", f.store, "cache", "list-caches"}).rc == 0);
}

TEST_CASE("cli keep-fresh daemon: SIGINT also stops it cleanly (text output)",
          "[live][cli][keep-fresh]") {
  Fixture f;
  f.mint("1h");
  std::vector<std::string> args = f.global();
  args.insert(args.end(), {"keep-fresh", "--store", "file:" + f.store});
  Background daemon(f.dir, "daemon", args);
  REQUIRE(daemon.wait_lines(1, std::chrono::seconds(20)));  // the adopted key
  daemon.signal(SIGINT);
  CHECK(daemon.wait_exit(std::chrono::seconds(10)) == 0);
  CHECK(daemon.out().find("stopped (SIGINT)") != std::string::npos);
  CHECK(daemon.err().find("keep-fresh: keeping file:") != std::string::npos);
}

TEST_CASE("cli watch: sees a rotation made by keep-fresh in another process",
          "[live][cli][keep-fresh][watch]") {
  Fixture f;
  f.mint("1h");
  Background watch(f.dir, "watch",
                   {"--json", "watch", "--store", "file:" + f.store, "--interval", "200ms",
                    "--count", "1"});
  REQUIRE(watch.wait_lines(1, std::chrono::seconds(20)));
  auto ev = json_lines(watch.out());
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "current");
  const std::string fp0 = ev[0].at("fingerprint");

  CliResult kf = f.cli({"keep-fresh", "--store", "file:" + f.store, "--once", "--force"});
  INFO(kf.err);
  REQUIRE(kf.rc == 0);
  // --count 1: it exits by itself after the change.
  CHECK(watch.wait_exit(std::chrono::seconds(20)) == 0);
  INFO(watch.err());
  ev = json_lines(watch.out());
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].at("event") == "changed");
  CHECK(ev[1].at("fingerprint") != fp0);
  CHECK(ev[1].at("expires") == true);
  CHECK(watch.out().find(f.auth_token()) == std::string::npos);
  CHECK(watch.out().find(ServerProcess::envelope_raw_key(f.auth_token())) == std::string::npos);

  // Text form; an empty store cannot be watched.
  CliResult empty = f.cli({"watch", "--store", "file:" + f.dir.file("none.json"), "--count", "1"});
  CHECK(empty.rc != 0);
  CHECK(f.cli({"watch", "--store", "file:" + f.store, "--interval", "soon", "--count", "1"}).rc == 3);
}

namespace {

// The keep-fresh fixture with the key kept in a Secrets Manager secret on a local moto server.
struct AwsFixture : Fixture {
  MotoServer moto;
  std::string id = "team/momento-key";
  std::string spec = "aws-sm:" + id;
  std::string described = spec + " (us-east-1)";  // how the store names itself in output

  // Mints a key into the token file and copies the file into the secret (with boto3).
  void mint_secret(const std::string& expires_in) {
    mint(expires_in);
    moto.put_secret(id, store);
  }
  json secret() const { return json::parse(moto.get_secret(id)); }
};

}  // namespace

TEST_CASE("cli keep-fresh --once rotates an aws-sm secret and watch in another process sees the new key",
          "[live][cli][keep-fresh][watch][aws]") {
  AwsFixture f;
  AwsTestEnv env(f.moto);  // credentials and the endpoint from the environment, as documented
  f.mint_secret("1h");
  const json first = f.secret();

  // Not due for an hour-long key: one read, the secret is unchanged.
  CliResult idle = f.cli({"--json", "keep-fresh", "--store", f.spec, "--region", "us-east-1", "--once"});
  INFO(idle.err);
  REQUIRE(idle.rc == 0);
  auto ev = json_lines(idle.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "current");
  CHECK(f.secret() == first);

  Background watch(f.dir, "watch",
                   {"--json", "watch", "--store", f.spec, "--region", "us-east-1", "--interval",
                    "200ms", "--count", "1"});
  REQUIRE(watch.wait_lines(1, std::chrono::seconds(30)));
  auto seen = json_lines(watch.out());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].at("event") == "current");
  CHECK(seen[0].at("store") == f.described);
  const std::string fp0 = seen[0].at("fingerprint");

  // Due once the fraction of the lifetime since the secret was written has passed (0.36 s of
  // the hour): a plain --once refreshes, no --force.
  CliResult kf = f.cli({"--json", "keep-fresh", "--store", f.spec, "--region", "us-east-1",
                        "--once", "--refresh-fraction", "0.0001"});
  INFO(kf.err);
  REQUIRE(kf.rc == 0);
  ev = json_lines(kf.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "refreshed");
  CHECK(ev[0].at("store") == f.described);
  CHECK(ev[0].at("expires") == true);
  const std::string fp1 = ev[0].at("fingerprint");
  CHECK(fp1 != fp0);

  // The secret (read back with boto3) holds the new key and refresh token, in the same shape.
  const json second = f.secret();
  const std::string new_key = second.at("authToken");
  CHECK(new_key != first.at("authToken").get<std::string>());
  CHECK(second.at("refreshToken") != first.at("refreshToken"));
  CHECK(!second.at("refreshToken").get<std::string>().empty());
  CHECK(std::stoll(second.at("validUntil").get<std::string>()) > now_epoch());
  CHECK(kf.out.find(new_key) == std::string::npos);
  CHECK(kf.out.find(ServerProcess::envelope_raw_key(new_key)) == std::string::npos);

  // The watcher printed the new key, redacted, and exits by itself (--count 1).
  CHECK(watch.wait_exit(std::chrono::seconds(30)) == 0);
  INFO(watch.err());
  seen = json_lines(watch.out());
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].at("event") == "changed");
  CHECK(seen[1].at("fingerprint") == fp1);
  CHECK(seen[1].at("key") == ev[0].at("key"));
  CHECK(seen[1].at("key") != seen[0].at("key"));
  CHECK(watch.out().find(new_key) == std::string::npos);
  CHECK(watch.out().find(ServerProcess::envelope_raw_key(new_key)) == std::string::npos);

  // The stored key works, and its refresh token refreshes again (text output).
  std::ofstream(f.store, std::ios::trunc) << second.dump();
  CHECK(f.cli({"--key-file", f.store, "cache", "list-caches"}).rc == 0);
  CliResult text = f.cli({"keep-fresh", "--store", f.spec, "--region", "us-east-1", "--once", "--force"});
  INFO(text.err);
  REQUIRE(text.rc == 0);
  CHECK(text.out.find(" refreshed " + f.described) != std::string::npos);
  CHECK(f.secret().at("authToken") != second.at("authToken"));
}

TEST_CASE("cli keep-fresh and watch: --aws-endpoint and a secret that does not exist",
          "[live][cli][keep-fresh][watch][aws]") {
  AwsFixture f;
  AwsTestEnv env(f.moto, false);  // no endpoint variable: only the option points at moto
  f.mint_secret("1h");
  const json first = f.secret();
  const std::vector<std::string> aws = {"--region", "us-east-1", "--aws-endpoint", f.moto.endpoint()};
  auto with_aws = [&](std::vector<std::string> args) {
    args.insert(args.end(), aws.begin(), aws.end());
    return f.cli(args);
  };

  CliResult forced = with_aws({"--json", "keep-fresh", "--store", f.spec, "--once", "--force"});
  INFO(forced.err);
  REQUIRE(forced.rc == 0);
  auto ev = json_lines(forced.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "refreshed");
  CHECK(f.secret().at("authToken") != first.at("authToken"));

  // watch with the option (it runs until a signal here: nothing changes).
  Background watch(f.dir, "watch", {"--json", "watch", "--store", f.spec, "--region", "us-east-1",
                                    "--aws-endpoint", f.moto.endpoint(), "--count", "1"});
  REQUIRE(watch.wait_lines(1, std::chrono::seconds(30)));
  auto lines = json_lines(watch.out());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].at("fingerprint") == ev[0].at("fingerprint"));
  watch.signal(SIGTERM);
  CHECK(watch.wait_exit(std::chrono::seconds(10)) == 0);

  // A secret that does not exist: keep-fresh reports a failed pass and writes nothing; watch
  // has no key to serve.
  CliResult missing = with_aws({"--json", "keep-fresh", "--store", "aws-sm:team/absent", "--once"});
  CHECK(missing.rc == 1);
  ev = json_lines(missing.out);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].at("event") == "failed");
  CHECK(ev[0].at("error_code") == "NOT_FOUND_ERROR");
  CHECK_THROWS(f.moto.get_secret("team/absent"));
  CHECK(with_aws({"watch", "--store", "aws-sm:team/absent", "--count", "1"}).rc != 0);
}
