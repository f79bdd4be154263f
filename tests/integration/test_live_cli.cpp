// The momento-auth CLI end to end against a real momento-auth-server.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_test_util.hpp"

using momento::test::ServerProcess;
using namespace momento::testing;
using nlohmann::json;

namespace {

struct CliFixture {
  ServerProcess server;
  TempDir dir;
  std::string superuser = server.bootstrap_path();

  // Global options for the local server, then the command.
  CliResult cli(std::vector<std::string> args) {
    std::vector<std::string> all = {"--endpoint", server.address(), "--insecure"};
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(dir, all);
  }
};

json token_file(const std::string& path) { return json::parse(slurp(path)); }

}  // namespace

TEST_CASE("cli: generate, inspect, refresh, refresh again", "[live][cli]") {
  CliFixture f;
  const std::string key = f.dir.file("key.json");

  CliResult gen = f.cli({"--key-file", f.superuser, "generate", "--scope", "all-data-read-write",
                         "--expires-in", "12h", "--out", key});
  INFO(gen.err);
  REQUIRE(gen.rc == 0);
  CHECK(file_mode(key) == 0600);
  json t1 = token_file(key);
  const std::string env1 = t1.at("authToken").get<std::string>();
  const std::string rt1 = t1.at("refreshToken").get<std::string>();
  REQUIRE_FALSE(env1.empty());
  REQUIRE_FALSE(rt1.empty());
  REQUIRE(t1.at("validUntil").is_string());
  const int64_t valid1 = std::stoll(t1.at("validUntil").get<std::string>());
  CHECK(valid1 > now_epoch() + 11 * 3600);
  // The summary names the file but never prints the secrets.
  CHECK(gen.out.find(key) != std::string::npos);
  CHECK(gen.out.find(env1) == std::string::npos);
  CHECK(gen.out.find(rt1) == std::string::npos);
  const std::string raw1 = ServerProcess::envelope_raw_key(env1);
  CHECK(gen.out.find(raw1) == std::string::npos);

  // inspect: kind, endpoints, expiry, redacted forms only.
  CliResult ins = run_cli(f.dir, {"inspect", key});
  REQUIRE(ins.rc == 0);
  CHECK(ins.out.find("v1_envelope") != std::string::npos);
  CHECK(ins.out.find("control.") != std::string::npos);
  CHECK(ins.out.find(env1) == std::string::npos);
  CHECK(ins.out.find(raw1) == std::string::npos);
  CHECK(ins.out.find(rt1) == std::string::npos);
  CliResult insj = run_cli(f.dir, {"--json", "inspect", key});
  REQUIRE(insj.rc == 0);
  json j = json::parse(insj.out);
  CHECK(j.at("kind") == "v1_envelope");
  CHECK(j.at("expires_at").get<int64_t>() == valid1);
  CHECK(j.at("refresh_token").is_string());
  CHECK(insj.out.find(raw1) == std::string::npos);
  // With the override, the endpoints point at the server.
  CliResult inso = f.cli({"--json", "inspect", key});
  REQUIRE(inso.rc == 0);
  CHECK(json::parse(inso.out).at("endpoints").at("control").at("port").get<int>() == f.server.port());

  // refresh rewrites the file atomically with a new key and refresh token.
  CliResult ref = f.cli({"refresh", "--file", key});
  INFO(ref.err);
  REQUIRE(ref.rc == 0);
  CHECK(file_mode(key) == 0600);
  json t2 = token_file(key);
  CHECK(t2.at("authToken") != t1.at("authToken"));
  CHECK(t2.at("refreshToken") != t1.at("refreshToken"));
  CHECK(ref.out.find(t2.at("authToken").get<std::string>()) == std::string::npos);

  CliResult ref2 = f.cli({"refresh", "--file", key});
  REQUIRE(ref2.rc == 0);
  json t3 = token_file(key);
  CHECK(t3.at("authToken") != t2.at("authToken"));

  // The refreshed key is an AllDataReadWrite key: refused when minting (exit 4).
  CliResult denied = f.cli({"--key-file", key, "generate", "--scope", "all-data-read-only",
                            "--expires-in", "1h"});
  CHECK(denied.rc == 4);
  CHECK(denied.err.find("PERMISSION_ERROR") != std::string::npos);
  CHECK(denied.err.find("Insufficient permissions") != std::string::npos);
  CHECK(denied.out.empty());

  // ...but allowed to use the data plane, while cache management stays refused.
  REQUIRE(f.cli({"--key-file", f.superuser, "cache", "create-cache", "demo"}).rc == 0);
  CHECK(f.cli({"--key-file", key, "cache", "set", "--cache", "demo", "greeting", "hello"}).rc == 0);
  CliResult got = f.cli({"--key-file", key, "cache", "get", "--cache", "demo", "greeting"});
  CHECK(got.rc == 0);
  CHECK(got.out == "hello\n");
  CHECK(f.cli({"--key-file", key, "cache", "delete-cache", "demo"}).rc == 4);
  CliResult miss = f.cli({"--key-file", key, "--json", "cache", "get", "--cache", "demo", "nope"});
  CHECK(miss.rc == 0);
  CHECK(json::parse(miss.out).at("hit") == false);
}

TEST_CASE("cli: generate without --out prints the token file", "[live][cli]") {
  CliFixture f;
  CliResult r = f.cli({"--key-file", f.superuser, "generate", "--scope", "all-data-read-only",
                       "--expires-in", "never"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  json t = json::parse(r.out);
  CHECK_FALSE(t.at("authToken").get<std::string>().empty());
  CHECK(t.at("refreshToken") == "");
  CHECK(t.at("validUntil") == "0");
  // The caller's key can also be given with --key.
  CliResult again = f.cli({"--key", f.server.bootstrap_envelope(), "generate", "--scope",
                           "all-data-read-only", "--expires-in", "2027-01-31"});
  INFO(again.err);
  CHECK(again.rc == 0);
  CHECK(json::parse(again.out).at("validUntil") != "0");
  // A SuperUser key may not mint SuperUser keys (that needs a session token).
  CliResult su = f.cli({"--key-file", f.superuser, "generate", "--scope", "super-user",
                        "--expires-in", "never"});
  CHECK(su.rc == 4);
}

TEST_CASE("cli: exit codes", "[live][cli]") {
  CliFixture f;
  const std::string out = f.dir.file("k.json");

  SECTION("usage errors exit 2") {
    CHECK(f.cli({"--key-file", f.superuser, "generate", "--expires-in", "1h"}).rc == 2);
    CHECK(f.cli({"refresh"}).rc == 2);
    CHECK(f.cli({"nonsense"}).rc == 2);
  }
  SECTION("invalid input exits 3 before any call") {
    CHECK(f.cli({"--key-file", f.superuser, "generate", "--scope", "super-user", "--expires-in", "0d"}).rc == 3);
    CHECK(f.cli({"--key", "Invalid token", "generate", "--scope", "super-user", "--expires-in", "1h"}).rc == 3);
    CHECK(f.cli({"--key-file", f.dir.file("missing.json"), "inspect"}).rc == 3);
    // An existing --out file is not replaced without --force.
    REQUIRE(f.cli({"--key-file", f.superuser, "generate", "--scope", "all-data-read-only",
                   "--expires-in", "1h", "--out", out}).rc == 0);
    const std::string before = slurp(out);
    CliResult again = f.cli({"--key-file", f.superuser, "generate", "--scope", "all-data-read-only",
                             "--expires-in", "1h", "--out", out});
    CHECK(again.rc == 3);
    CHECK(again.err.find("--force") != std::string::npos);
    CHECK(slurp(out) == before);
    CHECK(f.cli({"--key-file", f.superuser, "generate", "--scope", "all-data-read-only",
                 "--expires-in", "1h", "--out", out, "--force"}).rc == 0);
    CHECK(slurp(out) != before);
    // A never-expiring key file has no refresh token.
    CliResult noref = f.cli({"refresh", "--file", f.superuser});
    CHECK(noref.rc == 3);
    CHECK(noref.err.find("refresh token") != std::string::npos);
  }
  SECTION("an unknown key exits 4") {
    const std::string bogus = make_envelope("localhost", "not-a-key");
    CliResult r = f.cli({"--key", bogus, "generate", "--scope", "super-user", "--expires-in", "1h"});
    CHECK(r.rc == 4);
    CHECK(r.err.find("AUTHENTICATION_ERROR") != std::string::npos);
    CHECK(r.err.find("not-a-key") == std::string::npos);
  }
  SECTION("an expired key cannot be refreshed") {
    REQUIRE(f.cli({"--key-file", f.superuser, "generate", "--scope", "all-data-read-write",
                   "--expires-in", "2s", "--out", out}).rc == 0);
    wait_until_past(std::stoull(token_file(out).at("validUntil").get<std::string>()));
    CliResult r = f.cli({"refresh", "--file", out});
    CHECK((r.rc == 4 || r.rc == 3));
  }
  SECTION("an unreachable server exits 5 and says what to do") {
    const std::string addr = f.server.address();
    f.server.stop();
    CliResult r = run_cli(f.dir, {"--endpoint", addr, "--insecure", "--key-file", f.superuser,
                                  "generate", "--scope", "super-user", "--expires-in", "1h"});
    CHECK(r.rc == 5);
    CHECK(r.err.find("SERVER_UNAVAILABLE") != std::string::npos);
    CHECK(r.err.find("hint:") != std::string::npos);
  }
}

TEST_CASE("cli: --ca-file trusts a TLS server's own certificate", "[live][cli][tls]") {
  TempDir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  std::string ignored;
  REQUIRE(ServerProcess::run_capture(
              {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-subj",
               "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1"},
              &ignored, std::chrono::seconds(30), dir.file("openssl.err")) == 0);
  ServerProcess server(std::vector<std::string>{"--tls-cert", cert, "--tls-key", key});
  const std::string out = dir.file("k.json");
  CliResult ok = run_cli(dir, {"--endpoint", server.address(), "--ca-file", cert, "--key-file",
                               server.bootstrap_path(), "generate", "--scope", "all-data-read-write",
                               "--expires-in", "1h", "--out", out});
  INFO(ok.err);
  CHECK(ok.rc == 0);
  CHECK(run_cli(dir, {"--endpoint", server.address(), "--ca-file", cert, "refresh", "--file", out}).rc == 0);
  // Without the root the server is not trusted.
  CHECK(run_cli(dir, {"--endpoint", server.address(), "refresh", "--file", out}).rc == 5);
}
