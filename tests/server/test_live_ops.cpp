// Operations: admin commands, endpoint naming, TLS, fault injection, logs, malformed input.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <grpcpp/generic/generic_stub.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server_test_util.hpp"

using namespace momento::test;
using grpc::StatusCode;

namespace {

bool authenticates(Stubs& s, const std::string& key) {
  return s.list_caches(key).error_code() != StatusCode::UNAUTHENTICATED;
}

std::string jwt_header(const std::string& raw) {
  std::string seg = raw.substr(0, raw.find('.'));
  for (char& c : seg) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (seg.size() % 4) seg.push_back('=');
  std::string out(seg.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(seg.data()), static_cast<int>(seg.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

std::string read_token_file_key(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ServerProcess::envelope_raw_key(nlohmann::json::parse(ss.str()).at("authToken").get<std::string>());
}

// Self-signed certificate for localhost / 127.0.0.1, written as PEM files.
void make_certificate(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  REQUIRE(pkey != nullptr);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  REQUIRE(ext != nullptr);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  REQUIRE(X509_sign(x, pkey, EVP_sha256()) > 0);
  FILE* f = fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, x);
  fclose(f);
  f = fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  std::filesystem::permissions(key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  X509_free(x);
  EVP_PKEY_free(pkey);
}

grpc::Status raw_call(std::shared_ptr<grpc::Channel> ch, const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline());
  grpc::Slice slice(bytes);
  grpc::ByteBuffer req(&slice, 1), resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status st) { done.set_value(std::move(st)); });
  return done.get_future().get();
}

}  // namespace

TEST_CASE("admin: mint a session, list keys without secrets, revoke key and family", "[live][admin]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();

  // A session token may mint super-user keys (a super-user key may not).
  std::string session_file = server.data_dir() + "/session.json";
  std::string out;
  REQUIRE(server.admin({"mint", "--class", "session", "--expires-in", "600", "--out", session_file}, &out) == 0);
  std::string session = read_token_file_key(session_file);
  auto su2 = s.generate(session, super_user_perms(), 600);
  REQUIRE(su2.ok());
  CHECK(s.generate(su2.api_key, all_data_read_write(), 60).ok());

  auto k = s.generate(su, all_data_read_write(), 600);
  REQUIRE(k.ok());
  auto k2 = s.refresh(k.api_key, k.refresh_token);
  REQUIRE(k2.ok());

  REQUIRE(server.admin({"list-keys"}, &out) == 0);
  CHECK(out.find(key_id(k.api_key)) != std::string::npos);
  CHECK(out.find(key_id(su)) != std::string::npos);
  for (const std::string& secret : {su, session, k.api_key, k2.api_key, k.refresh_token, k2.refresh_token})
    CHECK(out.find(secret) == std::string::npos);

  REQUIRE(server.admin({"list-keys", "--json"}, &out) == 0);
  auto list = nlohmann::json::parse(out);
  std::string family;
  for (auto& e : list)
    if (e.at("key_id") == key_id(k2.api_key)) family = e.at("family_id").get<std::string>();
  REQUIRE(!family.empty());

  // Revoke one key.
  REQUIRE(server.admin({"revoke-key", key_id(su2.api_key)}, &out) == 0);
  CHECK_FALSE(authenticates(s, su2.api_key));
  CHECK(authenticates(s, su));
  // Revoke the refresh family: both keys and the refresh token die.
  REQUIRE(server.admin({"revoke-family", family}, &out) == 0);
  CHECK_FALSE(authenticates(s, k.api_key));
  CHECK_FALSE(authenticates(s, k2.api_key));
  CHECK(s.refresh(k2.api_key, k2.refresh_token).status.error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(server.admin({"revoke-key", "ffffffffffffffff"}, &out) != 0);
}

TEST_CASE("admin revocations from another process are seen on the very next call",
          "[live][admin][cache]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  auto a = s.generate(su, all_data_read_write(), 600);
  auto b = s.generate(su, all_data_read_write(), 600);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(s.create_cache(su, "c").ok());
  REQUIRE(s.set(a.api_key, "c", "k", "v").ok());
  // Used repeatedly, so the server has them cached.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(s.get(a.api_key, "c", "k").ok());
    REQUIRE(s.get(b.api_key, "c", "k").ok());
  }
  std::string out;
  REQUIRE(server.admin({"revoke-key", key_id(a.api_key)}, &out) == 0);
  CHECK(s.get(a.api_key, "c", "k").error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.get(b.api_key, "c", "k").ok());

  REQUIRE(server.admin({"list-keys", "--json"}, &out) == 0);
  std::string family;
  for (auto& e : nlohmann::json::parse(out))
    if (e.at("key_id") == key_id(b.api_key)) family = e.at("family_id").get<std::string>();
  REQUIRE(!family.empty());
  REQUIRE(server.admin({"revoke-family", family}, &out) == 0);
  CHECK(s.get(b.api_key, "c", "k").error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(s.get(su, "c", "k").ok());
}

TEST_CASE("admin: signing-key rotation keeps old keys valid", "[live][admin]") {
  ServerProcess server;
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  auto before = s.generate(su, all_data_read_write(), 600);
  REQUIRE(before.ok());
  std::string out;
  REQUIRE(server.admin({"rotate-signing-key"}, &out) == 0);
  // The running server picks the new key up for new keys.
  auto after = s.generate(su, all_data_read_write(), 600);
  REQUIRE(after.ok());
  auto h1 = nlohmann::json::parse(jwt_header(before.api_key));
  auto h2 = nlohmann::json::parse(jwt_header(after.api_key));
  CHECK(h1.at("alg") == "HS256");
  CHECK(h1.at("kid") != h2.at("kid"));
  CHECK(authenticates(s, before.api_key));
  CHECK(authenticates(s, after.api_key));
  CHECK(s.refresh(before.api_key, before.refresh_token).ok());
  server.restart();
  Stubs s2(server.address());
  CHECK(authenticates(s2, before.api_key));
  CHECK(authenticates(s2, su));
}

TEST_CASE("provider and region flags name the advertised endpoint", "[live]") {
  ServerProcess aws(std::vector<std::string>{"--provider", "aws", "--region", "us-west-2"});
  Stubs s(aws.address());
  auto k = s.generate(aws.bootstrap_raw_key(), all_data_read_write(), 60);
  REQUIRE(k.ok());
  CHECK_THAT(k.endpoint, Catch::Contains("us-west-2") && Catch::Contains("aws"));
  // The bootstrap envelope carries the same endpoint.
  auto env = aws.bootstrap_envelope();
  std::string json(env.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(json.data()),
                          reinterpret_cast<const unsigned char*>(env.data()), static_cast<int>(env.size()));
  json.resize(static_cast<size_t>(n));
  while (!json.empty() && json.back() == '\0') json.pop_back();
  CHECK(nlohmann::json::parse(json).at("endpoint") == k.endpoint);

  ServerProcess::Options bad;
  bad.extra_args = {"--provider", "azure", "--region", "x"};
  bad.start_timeout = std::chrono::seconds(10);
  CHECK_THROWS(ServerProcess(bad));
}

TEST_CASE("a TLS private key open to group or others is refused, like ssh does", "[live][tls]") {
  std::string dir = (std::filesystem::temp_directory_path() / "momento-tls-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  make_certificate(dir + "/cert.pem", dir + "/key.pem");
  ::chmod((dir + "/key.pem").c_str(), 0640);
  ServerProcess::Options o;
  o.extra_args = {"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"};
  o.start_timeout = std::chrono::seconds(10);
  std::string log;
  try {
    ServerProcess refused(o);
    FAIL("the server started with a group-readable TLS key");
  } catch (const std::runtime_error& e) {
    log = e.what();
  }
  CHECK(log.find("key.pem is open to group or others (mode 0640)") != std::string::npos);
  CHECK(log.find("--allow-readable-keys") != std::string::npos);
  // Allowed explicitly, it starts.
  o.extra_args.push_back("--allow-readable-keys");
  { ServerProcess allowed(o); }
  std::filesystem::remove_all(dir);
}

TEST_CASE("the whole flow over TLS", "[live][tls]") {
  std::string dir = (std::filesystem::temp_directory_path() / "momento-tls-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  make_certificate(dir + "/cert.pem", dir + "/key.pem");
  {
    ServerProcess server(std::vector<std::string>{"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"});
    std::ifstream in(dir + "/cert.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    Stubs s(server.address(), grpc::SslCredentials(ssl), args);
    const std::string su = server.bootstrap_raw_key();
    auto k = s.generate(su, all_data_read_write(), 600);
    REQUIRE(k.ok());
    auto k2 = s.refresh(k.api_key, k.refresh_token);
    REQUIRE(k2.ok());
    REQUIRE(s.create_cache(su, "c").ok());
    CHECK(s.set(k2.api_key, "c", "k", "v").ok());
    CHECK(s.get(k2.api_key, "c", "k").ok());
    // Plaintext clients cannot talk to the TLS port.
    Stubs plain(server.address());
    CHECK_FALSE(plain.ping().ok());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("fault injection through request metadata", "[live][faults]") {
  ServerProcess server(std::vector<std::string>{"--enable-faults"});
  Stubs s(server.address());
  const std::string su = server.bootstrap_raw_key();
  REQUIRE(s.create_cache(su, "c").ok());

  SECTION("return-error with a count and an RPC filter") {
    std::multimap<std::string, std::string> md = {
        {"request-id", "t1"}, {"return-error", "unavailable"}, {"error-rpcs", "get"}, {"error-count", "2"}};
    CHECK(s.get(su, "c", "k", nullptr, md).error_code() == StatusCode::UNAVAILABLE);
    CHECK(s.set(su, "c", "k", "v", 60000, md).ok());  // not listed
    CHECK(s.get(su, "c", "k", nullptr, md).error_code() == StatusCode::UNAVAILABLE);
    CHECK(s.get(su, "c", "k", nullptr, md).ok());  // count used up
    // Another request id has its own count.
    md.find("request-id")->second = "t2";
    CHECK(s.get(su, "c", "k", nullptr, md).error_code() == StatusCode::UNAVAILABLE);
  }
  SECTION("errors apply to auth RPCs too, before anything is committed") {
    auto k = s.generate(su, all_data_read_write(), 600);
    REQUIRE(k.ok());
    auto failed = s.refresh(k.api_key, k.refresh_token, {{"return-error", "internal"}});
    CHECK(failed.status.error_code() == StatusCode::INTERNAL);
    // Nothing was consumed: the token still refreshes, and a replay of it gives the same answer.
    auto ok = s.refresh(k.api_key, k.refresh_token);
    REQUIRE(ok.ok());
  }
  SECTION("delay-ms beyond the client's deadline, limited by delay-count") {
    auto call = [&](int deadline_ms) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
      ctx.AddMetadata("authorization", su);  // faults are honoured for authenticated callers only
      ctx.AddMetadata("request-id", "d1");
      ctx.AddMetadata("delay-ms", "5000");
      ctx.AddMetadata("delay-rpcs", "ping");
      ctx.AddMetadata("delay-count", "1");
      cache_client::_PingRequest req;
      cache_client::_PingResponse resp;
      return cache_client::Ping::NewStub(s.channel())->Ping(&ctx, req, &resp);
    };
    CHECK(call(300).error_code() == StatusCode::DEADLINE_EXCEEDED);
    CHECK(call(10000).ok());
  }
  SECTION("unparseable fault headers are ignored") {
    CHECK(s.get(su, "c", "k", nullptr, {{"return-error", "no-such-code"}, {"delay-ms", "abc"}}).ok());
  }
}

TEST_CASE("fault headers need --enable-faults and an authenticated caller", "[live][faults]") {
  const std::multimap<std::string, std::string> fail = {{"return-error", "unavailable"}};
  SECTION("without the flag they are ignored") {
    ServerProcess server;
    Stubs s(server.address());
    const std::string su = server.bootstrap_raw_key();
    REQUIRE(s.create_cache(su, "c").ok());
    CHECK(s.get(su, "c", "k", nullptr, fail).ok());
    CHECK(s.ping(fail).ok());
    auto k = s.generate(su, all_data_read_write(), 600);
    REQUIRE(k.ok());
    CHECK(s.refresh(k.api_key, k.refresh_token, {{"commit-then-error", "unavailable"}}).ok());
    CHECK(server.log().find("injected") == std::string::npos);
  }
  SECTION("with the flag, callers without a valid key get no faults") {
    ServerProcess server(std::vector<std::string>{"--enable-faults"});
    Stubs s(server.address());
    const std::string su = server.bootstrap_raw_key();
    REQUIRE(s.create_cache(su, "c").ok());
    CHECK(s.ping(fail).ok());  // no credential at all
    CHECK(s.ping({{"delay-ms", "600000"}}).ok());
    CHECK(s.get("not-a-key", "c", "k", nullptr, fail).error_code() == StatusCode::UNAUTHENTICATED);
    ::auth::_GenerateApiTokenRequest req;
    req.set_auth_token("not-a-key");
    *req.mutable_permissions() = all_data_read_write();
    req.mutable_never();
    CHECK(s.generate_raw(req, fail).status.error_code() == StatusCode::UNAUTHENTICATED);
    // The same headers from an authenticated caller are honoured.
    CHECK(s.ping({{"authorization", su}, {"return-error", "unavailable"}}).error_code() ==
          StatusCode::UNAVAILABLE);
  }
  SECTION("delayed calls are capped, so real callers are always served") {
    // --threads 4: at most one delayed call at a time.
    ServerProcess server(std::vector<std::string>{"--enable-faults", "--threads", "4"});
    Stubs s(server.address());
    const std::string su = server.bootstrap_raw_key();
    REQUIRE(s.create_cache(su, "c").ok());
    std::vector<std::future<grpc::Status>> delayed;
    for (int i = 0; i < 8; ++i)
      delayed.push_back(std::async(std::launch::async, [&] {
        return s.ping({{"authorization", su}, {"delay-ms", "3000"}});
      }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let them arrive
    for (int i = 0; i < 4; ++i) CHECK(s.get(su, "c", "k").ok());
    int refused = 0, served = 0;
    for (auto& f : delayed) {
      auto st = f.get();
      if (st.error_code() == StatusCode::RESOURCE_EXHAUSTED) ++refused;
      else if (st.ok()) ++served;
    }
    CHECK(served >= 1);
    CHECK(refused >= 1);
    CHECK(served + refused == 8);
  }
}

TEST_CASE("one log line per call, secrets redacted", "[live][logs]") {
  SECTION("text") {
    ServerProcess server;
    Stubs s(server.address());
    const std::string su = server.bootstrap_raw_key();
    auto k = s.generate(su, all_data_read_write(), 600);
    REQUIRE(k.ok());
    auto k2 = s.refresh(k.api_key, k.refresh_token);
    REQUIRE(k2.ok());
    CHECK(s.generate(k.api_key, all_data_read_write(), 60).status.error_code() == StatusCode::PERMISSION_DENIED);
    std::string log = server.log();
    auto count = [&](const std::string& needle) {
      size_t n = 0;
      for (size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
      return n;
    };
    CHECK(count("/auth.Auth/GenerateApiToken") == 2);
    CHECK(count("/auth.Auth/RefreshApiToken") == 1);
    CHECK(count("PERMISSION_DENIED") == 1);
    for (const std::string& secret : {su, k.api_key, k2.api_key, k.refresh_token, k2.refresh_token})
      CHECK(log.find(secret) == std::string::npos);
  }
  SECTION("json") {
    ServerProcess server(std::vector<std::string>{"--log-format", "json"});
    Stubs s(server.address());
    CHECK(s.ping().ok());
    CHECK(s.generate("bogus-key", all_data_read_write(), 60).status.error_code() == StatusCode::UNAUTHENTICATED);
    std::istringstream lines(server.log());
    std::string line;
    int calls = 0;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line);  // every line is JSON
      if (j.contains("method")) {
        ++calls;
        CHECK(j.contains("status"));
      }
      CHECK(line.find("bogus-key") == std::string::npos);
    }
    CHECK(calls == 2);
  }
}

TEST_CASE("malformed requests get INVALID_ARGUMENT and the server keeps serving", "[live][badinput]") {
  ServerProcess server;
  Stubs s(server.address());
  const char* methods[] = {"/auth.Auth/GenerateApiToken", "/auth.Auth/RefreshApiToken",
                           "/token.Token/GenerateDisposableToken", "/control_client.ScsControl/CreateCache",
                           "/cache_client.Scs/Set"};
  for (const char* m : methods) {
    INFO(m);
    // A truncated varint, then a length-delimited field running past the end.
    CHECK(raw_call(s.channel(), m, std::string("\x08\xff", 2)).error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(raw_call(s.channel(), m, std::string("\x1a\x7f" "abc", 5)).error_code() == StatusCode::INVALID_ARGUMENT);
  }
  // Invalid UTF-8 in a proto3 string field (auth_token, field 3).
  CHECK(raw_call(s.channel(), "/auth.Auth/GenerateApiToken", std::string("\x1a\x02\xc3\x28", 4)).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  // Unknown fields are ignored: an empty credential plus field 99 is still just UNAUTHENTICATED.
  CHECK(raw_call(s.channel(), "/auth.Auth/GenerateApiToken", std::string("\x98\x06\x01", 3)).error_code() ==
        StatusCode::UNAUTHENTICATED);
  // Out-of-scope RPCs are UNIMPLEMENTED.
  CHECK(raw_call(s.channel(), "/cache_client.pubsub.Pubsub/Publish", "").error_code() == StatusCode::UNIMPLEMENTED);
  CHECK(raw_call(s.channel(), "/cache_client.Scs/Increment", "").error_code() == StatusCode::UNIMPLEMENTED);
  // An oversized credential is simply unknown.
  CHECK(s.generate(std::string(100000, 'k'), all_data_read_write(), 60).status.error_code() ==
        StatusCode::UNAUTHENTICATED);
  CHECK(s.ping().ok());
  CHECK(server.running());
}

TEST_CASE("data-directory surprises are reported at start", "[live][datadir]") {
  namespace fs = std::filesystem;
  SECTION("a missing signing-keys file") {
    ServerProcess server;
    server.stop();
    REQUIRE(fs::remove(server.data_dir() + "/signing-keys.json"));
    server.restart();
    CHECK(server.log().find("WARNING: signing-keys.json is missing") != std::string::npos);
  }
  SECTION("a missing state.db") {
    ServerProcess server;
    server.stop();
    for (const char* f : {"/state.db", "/state.db-wal", "/state.db-shm"}) fs::remove(server.data_dir() + f);
    server.restart();
    CHECK(server.log().find("WARNING: state.db is missing") != std::string::npos);
  }
  SECTION("a fresh directory is not a surprise") {
    ServerProcess server;
    CHECK(server.log().find("WARNING") == std::string::npos);
  }
  SECTION("signing keys open to others are refused unless allowed") {
    ServerProcess server;
    server.stop();
    const std::string keys = server.data_dir() + "/signing-keys.json";
    REQUIRE(::chmod(keys.c_str(), 0644) == 0);
    const std::string err = server.data_dir() + "/refused.log";
    std::string out;
    int rc = ServerProcess::run_capture({kServerBinary, "--listen", "127.0.0.1:0", "--data-dir", server.data_dir()},
                                        &out, std::chrono::seconds(20), err);
    CHECK(rc == 1);
    std::ifstream in(err);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str().find("signing-keys.json is open to group or others (mode 0644)") != std::string::npos);
    CHECK(ServerProcess::run_capture({kServerBinary, "admin", "list-keys", "--data-dir", server.data_dir()},
                                     &out, std::chrono::seconds(20), err) == 1);
    server.restart_with({"--allow-readable-keys"});
    Stubs s(server.address());
    CHECK(s.list_caches(server.bootstrap_raw_key()).ok());
  }
}

TEST_CASE("the server warns at start when gRPC tracing is on", "[live][logs]") {
  ::setenv("GRPC_TRACE", "http_keepalive", 1);  // inherited by the child; a quiet tracer
  ServerProcess server;
  ::unsetenv("GRPC_TRACE");
  CHECK(server.log().find("warning: gRPC tracing is on (GRPC_TRACE)") != std::string::npos);
  ServerProcess quiet;
  CHECK(quiet.log().find("gRPC tracing") == std::string::npos);
}
