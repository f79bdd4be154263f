// AuthClient and DataClient against a real momento-auth-server on a free loopback port.
#include <algorithm>
#include <catch2/catch.hpp>

#include "live_util.hpp"
#include "momento/auth/data_client.hpp"

using namespace momento::auth;
using momento::test::ServerProcess;
using namespace momento::testing;

namespace {

struct Fixture {
  ServerProcess server;
  AuthClient admin{credential_for(server, server.bootstrap_envelope())};

  DataClient data_client(const Secret& envelope) {
    return DataClient(credential_for(server, envelope.reveal()));
  }
  AuthClient auth_client(const Secret& envelope) {
    return AuthClient(credential_for(server, envelope.reveal()));
  }
};

}  // namespace

TEST_CASE("live: generate -> refresh -> refresh again", "[live][refresh]") {
  Fixture f;
  const int64_t before = now_epoch_seconds();
  Token r1 = f.admin.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::hours(1));
  REQUIRE_FALSE(r1.refresh_token.empty());
  REQUIRE(r1.valid_until.does_expire());
  CHECK(r1.valid_until.epoch() >= static_cast<uint64_t>(before + 3600));
  CHECK(r1.valid_until.epoch() <= static_cast<uint64_t>(now_epoch_seconds() + 3600));
  Credential c1 = Credential::from_string(r1.api_key.reveal());  // a well-formed v1 envelope
  CHECK(c1.kind() == CredentialKind::V1Envelope);
  CHECK(c1.base_endpoint() == r1.endpoint);

  Token r2 = f.auth_client(r1.api_key).refresh_api_key(r1.refresh_token.reveal());
  CHECK(r2.api_key.reveal() != r1.api_key.reveal());
  CHECK(r2.refresh_token.reveal() != r1.refresh_token.reveal());
  CHECK(r2.endpoint == r1.endpoint);
  CHECK(r2.valid_until.epoch() >= r1.valid_until.epoch());

  Token r3 = f.auth_client(r2.api_key).refresh_api_key(r2.refresh_token.reveal());
  CHECK(r3.api_key.reveal() != r2.api_key.reveal());
  CHECK(r3.api_key.reveal() != r1.api_key.reveal());
  CHECK(r3.refresh_token.reveal() != r2.refresh_token.reveal());

  // The newest key works on the data plane.
  DataClient su = DataClient(credential_for(f.server, f.server.bootstrap_envelope()));
  su.create_cache("refreshed");
  DataClient d3 = f.data_client(r3.api_key);
  d3.set("refreshed", "k", "v3");
  CHECK(d3.get("refreshed", "k") == std::optional<std::string>("v3"));
}

TEST_CASE("live: the old key still works after a refresh", "[live][refresh]") {
  Fixture f;
  Token r1 = f.admin.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::hours(1));
  Token r2 = f.auth_client(r1.api_key).refresh_api_key(r1.refresh_token.reveal());
  REQUIRE(r2.api_key.reveal() != r1.api_key.reveal());

  // It still authenticates: a key call is refused for permission, not authentication...
  AuthClient old = f.auth_client(r1.api_key);
  Error e = expect_error(
      [&] { old.generate_api_key(PermissionScope::all_data_read_only(), ExpiresIn::hours(1)); });
  CHECK(e.code() == ErrorCode::Permission);
  // ...and data calls succeed.
  DataClient(credential_for(f.server, f.server.bootstrap_envelope())).create_cache("old");
  DataClient d1 = f.data_client(r1.api_key);
  d1.set("old", "k", "from-old-key");
  CHECK(d1.get("old", "k") == std::optional<std::string>("from-old-key"));
}

TEST_CASE("live: AllDataReadWrite cannot generate keys", "[live][permissions]") {
  Fixture f;
  Token r = f.admin.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::days(1));
  AuthClient adrw = f.auth_client(r.api_key);
  for (const auto& scope : {PermissionScope::super_user(), PermissionScope::all_data_read_write()}) {
    Error e = expect_error([&] { adrw.generate_api_key(scope, ExpiresIn::hours(1)); });
    CHECK(e.code() == ErrorCode::Permission);
    CHECK(e.grpc_status() == 7);
    CHECK(std::string(e.what()).find("Insufficient permissions") != std::string::npos);
    CHECK(std::string(e.what()).find(r.api_key.reveal()) == std::string::npos);
  }
  // Nor disposable tokens.
  Error d = expect_error([&] {
    adrw.generate_disposable_token(
        PermissionScope::of({CachePermission{CacheRole::ReadOnly, CacheSelector::all_caches(), {}}}),
        ExpiresIn::minutes(5));
  });
  CHECK(d.code() == ErrorCode::Permission);
}

TEST_CASE("live: a key from ExpiresIn::seconds(2) is rejected once expired and cannot be refreshed",
          "[live][expiry]") {
  Fixture f;
  DataClient(credential_for(f.server, f.server.bootstrap_envelope())).create_cache("exp");
  Token r = f.admin.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::seconds(2));
  REQUIRE(r.valid_until.does_expire());
  REQUIRE_FALSE(r.refresh_token.empty());

  wait_until_past(r.valid_until.epoch());

  Error data = expect_error([&] { f.data_client(r.api_key).get("exp", "k"); });
  CHECK(data.code() == ErrorCode::Authentication);
  Error gen = expect_error([&] {
    f.auth_client(r.api_key).generate_api_key(PermissionScope::all_data_read_only(), ExpiresIn::hours(1));
  });
  CHECK(gen.code() == ErrorCode::Authentication);
  Error refresh = expect_error(
      [&] { f.auth_client(r.api_key).refresh_api_key(r.refresh_token.reveal()); });
  CHECK((refresh.code() == ErrorCode::Authentication || refresh.code() == ErrorCode::InvalidArgument));
}

TEST_CASE("live: a server restart keeps keys and refresh tokens valid", "[live][restart]") {
  Fixture f;
  DataClient(credential_for(f.server, f.server.bootstrap_envelope())).create_cache("durable");
  Token r = f.admin.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::hours(1));
  f.data_client(r.api_key).set("durable", "k", "before-restart");

  f.server.restart();  // same data dir; the port may change, so clients are rebuilt below

  // The old key still authenticates (items may be gone: the data plane is in memory).
  DataClient d = f.data_client(r.api_key);
  CHECK_NOTHROW(d.get("durable", "k"));
  Token r2 = f.auth_client(r.api_key).refresh_api_key(r.refresh_token.reveal());
  CHECK_FALSE(r2.api_key.empty());
  f.data_client(r2.api_key).set("durable", "k2", "after-restart");
  CHECK(f.data_client(r2.api_key).get("durable", "k2") == std::optional<std::string>("after-restart"));
  // The bootstrap SuperUser key survives too.
  AuthClient admin2(credential_for(f.server, f.server.bootstrap_envelope()));
  CHECK_FALSE(admin2.generate_api_key(PermissionScope::all_data_read_only(), ExpiresIn::hours(1))
                  .api_key.empty());
}

TEST_CASE("live: disposable tokens are limited to their item scope", "[live][disposable]") {
  Fixture f;
  DataClient su(credential_for(f.server, f.server.bootstrap_envelope()));
  su.create_cache("items");
  su.set("items", "user-1", "one");
  su.set("items", "other", "two");
  auto scope = PermissionScope::of({CachePermission{CacheRole::ReadOnly, CacheSelector::named("items"),
                                                    ItemSelector::key_prefix("user-")}});
  Token t = f.admin.generate_disposable_token(scope, ExpiresIn::minutes(5), "reader-1");
  CHECK(t.refresh_token.empty());
  CHECK(t.valid_until.does_expire());
  DataClient d = f.data_client(t.api_key);
  CHECK(d.get("items", "user-1") == std::optional<std::string>("one"));
  CHECK(expect_error([&] { d.get("items", "other"); }).code() == ErrorCode::Permission);
  CHECK(expect_error([&] { d.set("items", "user-2", "x"); }).code() == ErrorCode::Permission);
}

TEST_CASE("live: data-plane errors carry canonical codes", "[live][data]") {
  Fixture f;
  DataClient su(credential_for(f.server, f.server.bootstrap_envelope()));
  su.create_cache("dup");
  CHECK(expect_error([&] { su.create_cache("dup"); }).code() == ErrorCode::AlreadyExists);
  CHECK(expect_error([&] { su.get("missing-cache", "k"); }).code() == ErrorCode::NotFound);
  auto names = su.list_caches();
  CHECK(std::find(names.begin(), names.end(), "dup") != names.end());
  su.set("dup", "k", "v");
  su.delete_key("dup", "k");
  CHECK_FALSE(su.get("dup", "k").has_value());
  su.flush_cache("dup");
  su.delete_cache("dup");
  su.ping();
  DataClient stranger(credential_for(f.server, encode_envelope("localhost", "not-a-real-key")));
  CHECK(expect_error([&] { stranger.list_caches(); }).code() == ErrorCode::Authentication);
}

TEST_CASE("live: a stopped server gives SERVER_UNAVAILABLE", "[live][unavailable]") {
  Fixture f;
  const auto cred = credential_for(f.server, f.server.bootstrap_envelope());
  f.server.stop();
  AuthClient client(cred);
  Error e = expect_error(
      [&] { client.generate_api_key(PermissionScope::all_data_read_only(), ExpiresIn::hours(1)); });
  CHECK(e.code() == ErrorCode::ServerUnavailable);
}

TEST_CASE("live: TLS with roots from ca_file", "[live][tls]") {
  TempDir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  std::string ignored;
  // A throwaway self-signed certificate for 127.0.0.1.
  REQUIRE(ServerProcess::run_capture(
              {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-subj",
               "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1"},
              &ignored, std::chrono::seconds(30), dir.file("openssl.err")) == 0);
  ServerProcess server(std::vector<std::string>{"--tls-cert", cert, "--tls-key", key});
  const Credential cred = Credential::from_string(server.bootstrap_envelope(),
                                                  SingleEndpointOverride{server.address(), true});
  ClientConfig cfg;
  cfg.ca_file = cert;
  AuthClient admin(cred, cfg);
  Token r = admin.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::hours(1));
  DataClientConfig dcfg;
  dcfg.ca_file = cert;
  DataClient(cred, dcfg).create_cache("tls");
  DataClient d(Credential::from_string(r.api_key.reveal(), SingleEndpointOverride{server.address(), true}),
               dcfg);
  d.set("tls", "k", "over-tls");
  CHECK(d.get("tls", "k") == std::optional<std::string>("over-tls"));

  // Without the server's root the handshake fails; plaintext cannot talk to a TLS port either.
  AuthClient untrusted(cred);
  CHECK(expect_error([&] { untrusted.refresh_api_key(r.refresh_token.reveal()); }).code() ==
        ErrorCode::ServerUnavailable);
  AuthClient plain(credential_for(server, server.bootstrap_envelope()));
  CHECK(expect_error([&] {
          plain.generate_api_key(PermissionScope::all_data_read_only(), ExpiresIn::hours(1));
        }).code() == ErrorCode::ServerUnavailable);
}
