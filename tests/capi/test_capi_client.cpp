// C ABI, client module: config, generate/refresh/disposable against the local server, the
// error codes a caller sees, and argument validation.
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "capi_test_util.hpp"

using namespace capi_test;

namespace {

std::string v1_vector() {
  std::ifstream in(std::string(MOMENTO_SPEC_DIR) + "/vectors.json");
  auto doc = nlohmann::json::parse(in);
  for (auto &v : doc["vectors"])
    if (v["id"] == "cred-v1-envelope") return v["input"];
  FAIL("no v1 vector");
  return {};
}

uint64_t now() { return static_cast<uint64_t>(std::time(nullptr)); }

}  // namespace

TEST_CASE("generate, inspect and refresh against the local server", "[capi][client][server]") {
  Server srv;
  Err err;
  Client admin = client_from_file(srv.bootstrap_file(), srv.address());
  const momento_credential_t *admin_cred = momento_auth_client_credential(admin.get());
  REQUIRE(admin_cred != nullptr);
  CHECK(momento_credential_kind(admin_cred) == MOMENTO_CREDENTIAL_V1_ENVELOPE);

  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Token t;
  uint64_t before = now();
  REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), admin.get(), rw.get(), hour.get(),
                                                       err.out()));
  std::string key = momento_token_api_key(t.get());
  std::string refresh = momento_token_refresh_token(t.get());
  CHECK_FALSE(key.empty());
  CHECK_FALSE(refresh.empty());
  CHECK_FALSE(std::string(momento_token_endpoint(t.get())).empty());
  CHECK(momento_token_valid_until(t.get()) >= before + 3600);
  CHECK(momento_token_valid_until(t.get()) <= now() + 3600 + 5);

  // Inspect: the key is a v1 envelope naming the endpoint the service reported.
  Credential parsed;
  REQUIRE_OK(err, momento_credential_from_string(parsed.out(), key.c_str(), nullptr, err.out()));
  CHECK(momento_credential_kind(parsed.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
  CHECK(std::string(momento_credential_base_endpoint(parsed.get())) ==
        momento_token_endpoint(t.get()));

  // Refresh with a client built from the new key: a new key and a new refresh token.
  Client user = client_from_string(key, srv.address());
  Token r;
  REQUIRE_OK(err, momento_auth_client_refresh_api_key(r.out(), user.get(), refresh.c_str(),
                                                      err.out()));
  CHECK(std::string(momento_token_api_key(r.get())) != key);
  CHECK_FALSE(std::string(momento_token_refresh_token(r.get())).empty());
  CHECK(std::string(momento_token_refresh_token(r.get())) != refresh);
  CHECK(momento_token_valid_until(r.get()) >= momento_token_valid_until(t.get()));

  // The refreshed key works in turn.
  Client user2 = client_from_string(momento_token_api_key(r.get()), srv.address());
  Token r2;
  REQUIRE_OK(err, momento_auth_client_refresh_api_key(r2.out(), user2.get(),
                                                      momento_token_refresh_token(r.get()),
                                                      err.out()));

  SECTION("never-expiring keys have no refresh token") {
    Expires never = expires(MOMENTO_EXPIRES_NEVER, 0);
    Token n;
    REQUIRE_OK(err, momento_auth_client_generate_api_key(n.out(), admin.get(), rw.get(),
                                                         never.get(), err.out()));
    CHECK(momento_token_valid_until(n.get()) == 0);
    CHECK(std::string(momento_token_refresh_token(n.get())).empty());
  }
  SECTION("fine-grained key and disposable token") {
    Scope s;
    REQUIRE_OK(err, momento_scope_new(s.out(), err.out()));
    REQUIRE_OK(err, momento_scope_add_cache(s.get(), MOMENTO_CACHE_READ_ONLY, "orders", err.out()));
    REQUIRE_OK(err, momento_scope_add_topic(s.get(), MOMENTO_TOPIC_PUBLISH_SUBSCRIBE, nullptr,
                                            MOMENTO_SELECT_PREFIX, "ev-", err.out()));
    Token k;
    REQUIRE_OK(err, momento_auth_client_generate_api_key(k.out(), admin.get(), s.get(), hour.get(),
                                                         err.out()));
    CHECK_FALSE(std::string(momento_token_api_key(k.get())).empty());

    Scope d;
    REQUIRE_OK(err, momento_scope_new(d.out(), err.out()));
    REQUIRE_OK(err, momento_scope_add_cache_items(d.get(), MOMENTO_CACHE_READ_ONLY, "orders",
                                                  MOMENTO_ITEMS_KEY_PREFIX, "user-1", 6,
                                                  err.out()));
    Expires ten = expires(MOMENTO_EXPIRES_MINUTES, 10);
    Token dt;
    REQUIRE_OK(err, momento_auth_client_generate_disposable_token(dt.out(), admin.get(), d.get(),
                                                                  ten.get(), "job-17", err.out()));
    CHECK(std::string(momento_token_refresh_token(dt.get())).empty());
    CHECK(momento_token_valid_until(dt.get()) >= before + 600);
    Credential dc;
    REQUIRE_OK(err, momento_credential_from_disposable_token(dc.out(), momento_token_api_key(dt.get()),
                                                             nullptr, err.out()));
    CHECK(momento_credential_kind(dc.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
  }
}

TEST_CASE("errors carry the right code, gRPC status and the server's message",
          "[capi][client][server][errors]") {
  Server srv;
  Err err;
  Client admin = client_from_file(srv.bootstrap_file(), srv.address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  auto *sentinel = reinterpret_cast<momento_token_t *>(0x1);
  momento_token_t *out = sentinel;

  SECTION("INVALID_ARGUMENT from the server (disposable lifetime above its maximum)") {
    Expires two_days = expires(MOMENTO_EXPIRES_DAYS, 2);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(&out, admin.get(), rw.get(),
                                                                   two_days.get(), nullptr,
                                                                   err.out()));
    CHECK(err.grpc() == 3);
    CHECK(err.message().find("maximum") != std::string::npos);
    CHECK_FALSE(err.retryable());
  }
  SECTION("UNAUTHENTICATED: wrong refresh token, unknown key") {
    Token t;
    REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), admin.get(), rw.get(),
                                                         hour.get(), err.out()));
    Client user = client_from_string(momento_token_api_key(t.get()), srv.address());
    CHECK_FAILS_WITH(MOMENTO_ERR_AUTHENTICATION, err,
                     momento_auth_client_refresh_api_key(&out, user.get(), "not-the-refresh-token",
                                                         err.out()));
    CHECK(err.grpc() == 16);
    CHECK(err.message().find("Invalid refresh token") != std::string::npos);
    CHECK(err.message().find("not-the-refresh-token") == std::string::npos);

    Client stranger = client_from_string(v1_vector(), srv.address());
    CHECK_FAILS_WITH(MOMENTO_ERR_AUTHENTICATION, err,
                     momento_auth_client_generate_api_key(&out, stranger.get(), rw.get(),
                                                          hour.get(), err.out()));
    CHECK(err.grpc() == 16);
    CHECK(err.message().find("Invalid authentication token") != std::string::npos);
  }
  SECTION("PERMISSION_DENIED: a data key may not mint keys") {
    Token t;
    REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), admin.get(), rw.get(),
                                                         hour.get(), err.out()));
    Client user = client_from_string(momento_token_api_key(t.get()), srv.address());
    CHECK_FAILS_WITH(MOMENTO_ERR_PERMISSION, err,
                     momento_auth_client_generate_api_key(&out, user.get(), rw.get(), hour.get(),
                                                          err.out()));
    CHECK(err.grpc() == 7);
    CHECK(err.message().find("Insufficient permissions") != std::string::npos);
    CHECK_FALSE(err.retryable());
  }
  SECTION("UNAVAILABLE: nobody listens") {
    Client c = client_from_file(srv.bootstrap_file(), closed_port_address(), 5000);
    CHECK_FAILS_WITH(MOMENTO_ERR_SERVER_UNAVAILABLE, err,
                     momento_auth_client_generate_api_key(&out, c.get(), rw.get(), hour.get(),
                                                          err.out()));
    CHECK(err.grpc() == 14);
    CHECK(err.retryable());
  }
  SECTION("DEADLINE_EXCEEDED: a peer that accepts and never answers") {
    SilentSocket silent;
    Client c = client_from_file(srv.bootstrap_file(), silent.address(), 300);
    CHECK_FAILS_WITH(MOMENTO_ERR_TIMEOUT, err,
                     momento_auth_client_generate_api_key(&out, c.get(), rw.get(), hour.get(),
                                                          err.out()));
    CHECK(err.grpc() == 4);
    CHECK(err.retryable());
  }
  CHECK(out == sentinel);
}

TEST_CASE("client and config argument validation", "[capi][client][validation]") {
  Err err;
  std::string v1 = v1_vector();
  Client c = client_from_string(v1, closed_port_address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  auto *sentinel = reinterpret_cast<momento_token_t *>(0x1);
  momento_token_t *out = sentinel;

  SECTION("config") {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_client_config_new(nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_client_config_set_deadline_ms(nullptr, 100, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_client_config_set_ca_file(nullptr, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_client_config_set_max_message_bytes(nullptr, 100, err.out()));
    Config cfg;
    REQUIRE_OK(err, momento_client_config_new(cfg.out(), err.out()));
    // The deadline in effect: the library's default until one is set (NULL: the default).
    CHECK(momento_client_config_deadline_ms(nullptr) == 15000);
    CHECK(momento_client_config_deadline_ms(cfg.get()) == 15000);
    for (int64_t d : {int64_t{0}, int64_t{-1}, int64_t{86400001}, INT64_MAX})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_client_config_set_deadline_ms(cfg.get(), d, err.out()));
    CHECK(momento_client_config_deadline_ms(cfg.get()) == 15000);  // refused values change nothing
    REQUIRE_OK(err, momento_client_config_set_deadline_ms(cfg.get(), 2500, err.out()));
    CHECK(momento_client_config_deadline_ms(cfg.get()) == 2500);
    for (int32_t m : {0, -1})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_client_config_set_max_message_bytes(cfg.get(), m, err.out()));
    for (const char *bad : {"", kBadUtf8, "/nonexistent/momento/ca.pem"})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_client_config_set_ca_file(cfg.get(), bad, err.out()));
    TempDir dir;
    std::string ca = dir.file("ca.pem");
    std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    REQUIRE_OK(err, momento_client_config_set_ca_file(cfg.get(), ca.c_str(), err.out()));
    REQUIRE_OK(err, momento_client_config_set_ca_file(cfg.get(), nullptr, err.out()));
    momento_client_config_free(nullptr);
  }
  SECTION("client construction") {
    Credential cred;
    REQUIRE_OK(err, momento_credential_from_string(cred.out(), v1.c_str(), nullptr, err.out()));
    momento_auth_client_t *cl = reinterpret_cast<momento_auth_client_t *>(0x1);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_new(nullptr, cred.get(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_new(&cl, nullptr, nullptr, err.out()));
    CHECK(cl == reinterpret_cast<momento_auth_client_t *>(0x1));
    Client ok;
    REQUIRE_OK(err, momento_auth_client_new(ok.out(), cred.get(), nullptr, err.out()));
    CHECK(momento_auth_client_credential(nullptr) == nullptr);
    momento_auth_client_free(nullptr);
  }
  SECTION("generate_api_key") {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_api_key(nullptr, c.get(), rw.get(), hour.get(),
                                                          err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_api_key(&out, nullptr, rw.get(), hour.get(),
                                                          err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_api_key(&out, c.get(), nullptr, hour.get(),
                                                          err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_api_key(&out, c.get(), rw.get(), nullptr,
                                                          err.out()));
    Scope empty;
    REQUIRE_OK(err, momento_scope_new(empty.out(), err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_api_key(&out, c.get(), empty.get(), hour.get(),
                                                          err.out()));
    CHECK(err.grpc() == -1);  // refused before any RPC
  }
  SECTION("refresh_api_key") {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_refresh_api_key(nullptr, c.get(), "rt", err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_refresh_api_key(&out, nullptr, "rt", err.out()));
    for (const char *bad : {static_cast<const char *>(nullptr), "", kBadUtf8})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_auth_client_refresh_api_key(&out, c.get(), bad, err.out()));
    // A local credential is not refreshable: refused before any RPC.
    Credential local;
    REQUIRE_OK(err, momento_credential_new_local(local.out(), nullptr, 1, err.out()));
    Client lc;
    REQUIRE_OK(err, momento_auth_client_new(lc.out(), local.get(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_refresh_api_key(&out, lc.get(), "rt", err.out()));
    CHECK(err.grpc() == -1);
  }
  SECTION("generate_disposable_token") {
    Expires never = expires(MOMENTO_EXPIRES_NEVER, 0);
    Scope su = predefined(MOMENTO_SCOPE_SUPER_USER);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(nullptr, c.get(), rw.get(),
                                                                   hour.get(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(&out, nullptr, rw.get(),
                                                                   hour.get(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(&out, c.get(), nullptr,
                                                                   hour.get(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(&out, c.get(), rw.get(),
                                                                   nullptr, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(&out, c.get(), rw.get(),
                                                                   never.get(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_auth_client_generate_disposable_token(&out, c.get(), su.get(),
                                                                   hour.get(), nullptr, err.out()));
    std::string long_id(65, 'x');
    for (const char *bad : {"", kBadUtf8, long_id.c_str()})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_auth_client_generate_disposable_token(&out, c.get(), rw.get(),
                                                                     hour.get(), bad, err.out()));
    CHECK(err.grpc() == -1);
  }
  CHECK(out == sentinel);
}

TEST_CASE("TLS: the CA file of the client config is what makes the server trusted",
          "[capi][client][server][tls]") {
  TempDir dir;
  std::string cert = dir.file("server.pem"), key = dir.file("server.key");
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" + key +
                    "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    WARN("openssl command line tool not available; TLS case skipped");
    return;
  }
  Server srv({"--tls-cert", cert, "--tls-key", key});
  std::string port = srv.address().substr(srv.address().rfind(':') + 1);
  Err err;
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), ("localhost:" + port).c_str(), 1,
                                                   err.out()));
  Credential cred;
  REQUIRE_OK(err, momento_credential_from_file(cred.out(), srv.bootstrap_file().c_str(), ov.get(),
                                               err.out()));
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);

  Config trusted;
  REQUIRE_OK(err, momento_client_config_new(trusted.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_ca_file(trusted.get(), cert.c_str(), err.out()));
  Client ok;
  REQUIRE_OK(err, momento_auth_client_new(ok.out(), cred.get(), trusted.get(), err.out()));
  Token t;
  REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), ok.get(), rw.get(), hour.get(),
                                                       err.out()));

  // System roots do not know this self-signed certificate: the handshake fails.
  Config system_roots;
  REQUIRE_OK(err, momento_client_config_new(system_roots.out(), err.out()));
  REQUIRE_OK(err, momento_client_config_set_deadline_ms(system_roots.get(), 5000, err.out()));
  Client untrusted;
  REQUIRE_OK(err, momento_auth_client_new(untrusted.out(), cred.get(), system_roots.get(),
                                          err.out()));
  momento_token_t *out = nullptr;
  // The library never writes to stderr, not even through gRPC: its messages go to the log
  // callback (here: none installed, so they are dropped).
  std::string captured = dir.file("stderr.txt");
  fflush(stderr);
  int saved = dup(2);
  int fd = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 2);
  momento_status_t st = momento_auth_client_generate_api_key(&out, untrusted.get(), rw.get(),
                                                             hour.get(), err.out());
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream cap(captured);
  std::string text((std::istreambuf_iterator<char>(cap)), std::istreambuf_iterator<char>());
  CHECK(text.empty());
  CHECK(st != MOMENTO_OK);
  CHECK(out == nullptr);
  CHECK((st == MOMENTO_ERR_SERVER_UNAVAILABLE || st == MOMENTO_ERR_CONNECTION ||
         st == MOMENTO_ERR_TIMEOUT));
}
