// Client side of the wire contract, checked against an in-process recording gRPC server:
// headers, body fields, envelopes, retries, deadlines and error mapping.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth.pb.h"
#include "cacheclient.pb.h"
#include "momento/auth/client.hpp"
#include "momento/auth/data_client.hpp"
#include "momento/auth/error.hpp"
#include "momento/auth/version.hpp"
#include "recording_server.hpp"
#include "token.pb.h"

using namespace momento::auth;
using momento::testing::RecordingServer;

namespace {

const std::string kCallerRawKey = "caller-raw-key-0123456789";

Credential envelope_credential(const std::string& address) {
  return Credential::from_string(encode_envelope("base.example", kCallerRawKey),
                                 SingleEndpointOverride{address, false});
}

ClientConfig quick(std::chrono::milliseconds d = std::chrono::seconds(5)) {
  ClientConfig c;
  c.deadline = d;
  return c;
}

template <typename Fn>
Error catch_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected momento::auth::Error");
  return Error(ErrorCode::Unknown, "unreachable");
}

// A TCP socket on 127.0.0.1 that accepts connections into its backlog but never speaks.
struct SilentListener {
  int fd = -1;
  int port = 0;
  SilentListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd); }
};

// A loopback port that nothing listens on (bound, then closed).
int closed_port() {
  SilentListener l;
  int p = l.port;
  return p;  // the destructor closes the socket
}

}  // namespace

TEST_CASE("generate_api_key sends the caller's raw key in body and header, agent once",
          "[client][wire]") {
  RecordingServer server;
  AuthClient client(envelope_credential(server.address()), quick());

  Token r = client.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::hours(1));
  client.generate_api_key(PermissionScope::super_user(), ExpiresIn::never());

  auto calls = server.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].method == "GenerateApiToken");
  CHECK(calls[0].get("authorization") == kCallerRawKey);
  CHECK(calls[0].get("agent") == std::string("cpp:auth:") + library_version());
  CHECK(calls[0].get("runtime-version").rfind("cpp:", 0) == 0);
  CHECK(calls[0].get("runtime-version").size() > 4);
  // Send-once: the second call of the same client carries neither.
  CHECK_FALSE(calls[1].has("agent"));
  CHECK_FALSE(calls[1].has("runtime-version"));
  CHECK(calls[1].get("authorization") == kCallerRawKey);

  ::auth::_GenerateApiTokenRequest first;
  REQUIRE(first.ParseFromString(calls[0].body));
  CHECK(first.auth_token() == kCallerRawKey);
  REQUIRE(first.expiry_case() == ::auth::_GenerateApiTokenRequest::kExpires);
  CHECK(first.expires().valid_for_seconds() == 3600);
  REQUIRE(first.has_permissions());
  REQUIRE(first.permissions().has_explicit_());
  CHECK(first.permissions().explicit_().permissions_size() == 3);
  CHECK(first.token_id().empty());

  ::auth::_GenerateApiTokenRequest second;
  REQUIRE(second.ParseFromString(calls[1].body));
  CHECK(second.expiry_case() == ::auth::_GenerateApiTokenRequest::kNever);
  CHECK(second.permissions().kind_case() == ::permission_messages::Permissions::kSuperUser);

  // The result wraps the server's raw key in a v1 envelope with the server's endpoint.
  CHECK(r.api_key.reveal() == encode_envelope("advertised.example", "raw-key-from-server"));
  CHECK(r.refresh_token.reveal() == "refresh-from-server");
  CHECK(r.endpoint == "advertised.example");
  CHECK(r.valid_until == ExpiresAt::from_epoch(1900000000));
  Credential back = Credential::from_string(r.api_key.reveal());
  CHECK(back.raw_key() == "raw-key-from-server");
  CHECK(back.base_endpoint() == "advertised.example");
}

TEST_CASE("valid_until 0 means the key never expires", "[client][wire]") {
  RecordingServer server;
  server.valid_until = 0;
  server.refresh_token = "";
  AuthClient client(envelope_credential(server.address()), quick());
  Token r = client.generate_api_key(PermissionScope::super_user(), ExpiresIn::never());
  CHECK_FALSE(r.valid_until.does_expire());
  CHECK(r.refresh_token.empty());
  CHECK(r.valid_until == ExpiresAt::never());
}

TEST_CASE("refresh_api_key sends the raw key being refreshed and the refresh token",
          "[client][wire]") {
  RecordingServer server;
  AuthClient client(envelope_credential(server.address()), quick());
  Token r = client.refresh_api_key("the-refresh-token");

  auto calls = server.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "RefreshApiToken");
  ::auth::_RefreshApiTokenRequest req;
  REQUIRE(req.ParseFromString(calls[0].body));
  CHECK(req.api_key() == kCallerRawKey);  // the inner key, never the envelope
  CHECK(req.refresh_token() == "the-refresh-token");
  CHECK(calls[0].get("authorization") == kCallerRawKey);
  // The refresh token never travels in a header.
  for (const auto& [k, v] : calls[0].metadata) CHECK(v.find("the-refresh-token") == std::string::npos);
  CHECK(r.api_key.reveal() == encode_envelope("advertised.example", "raw-key-from-server"));
}

TEST_CASE("refresh is rejected before any RPC for empty tokens and non-envelope credentials",
          "[client][wire]") {
  RecordingServer server;
  {
    AuthClient client(envelope_credential(server.address()), quick());
    CHECK(catch_error([&] { client.refresh_api_key(""); }).code() == ErrorCode::InvalidArgument);
  }
  {
    AuthClient local(Credential::local("127.0.0.1", static_cast<uint16_t>(server.port())), quick());
    CHECK(catch_error([&] { local.refresh_api_key("tok"); }).code() == ErrorCode::InvalidArgument);
  }
  CHECK(server.call_count() == 0);
}

TEST_CASE("RefreshApiToken is never retried", "[client][wire][retry]") {
  RecordingServer server;
  server.fail_next(grpc::Status(grpc::StatusCode::UNAVAILABLE, "try later"), 3);
  AuthClient client(envelope_credential(server.address()), quick());
  Error e = catch_error([&] { client.refresh_api_key("tok"); });
  CHECK(e.code() == ErrorCode::ServerUnavailable);
  CHECK(server.call_count() == 1);
  // The server received it: the answer may have been lost after a commit.
  CHECK_FALSE(e.not_sent());
  // Also on a connected channel (the second call of a client).
  e = catch_error([&] { client.refresh_api_key("tok"); });
  CHECK(e.code() == ErrorCode::ServerUnavailable);
  CHECK_FALSE(e.not_sent());
}

TEST_CASE("server statuses map to canonical codes and keep the server's message",
          "[client][wire][errors]") {
  RecordingServer server;
  AuthClient client(envelope_credential(server.address()), quick());
  struct Case {
    grpc::StatusCode status;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {grpc::StatusCode::PERMISSION_DENIED, ErrorCode::Permission},
      {grpc::StatusCode::UNAUTHENTICATED, ErrorCode::Authentication},
      {grpc::StatusCode::INVALID_ARGUMENT, ErrorCode::InvalidArgument},
      {grpc::StatusCode::INTERNAL, ErrorCode::InternalServer},
      {grpc::StatusCode::UNIMPLEMENTED, ErrorCode::BadRequest},
  };
  for (const auto& c : cases) {
    server.fail_next(grpc::Status(c.status, "Insufficient permissions for this"));
    Error e = catch_error([&] {
      client.generate_api_key(PermissionScope::all_data_read_only(), ExpiresIn::minutes(5));
    });
    CHECK(e.code() == c.code);
    CHECK(e.grpc_status() == static_cast<int>(c.status));
    CHECK(std::string(e.what()).find("Insufficient permissions for this") != std::string::npos);
    CHECK(std::string(e.what()).find(kCallerRawKey) == std::string::npos);
  }
  CHECK(server.call_count() == cases.size());  // auth calls are not retried
}

TEST_CASE("a call that outlives its deadline fails with TIMEOUT_ERROR", "[client][wire][deadline]") {
  RecordingServer server;
  server.hang_next();
  AuthClient client(envelope_credential(server.address()), quick(std::chrono::milliseconds(300)));
  Error e = catch_error(
      [&] { client.generate_api_key(PermissionScope::super_user(), ExpiresIn::hours(1)); });
  CHECK(e.code() == ErrorCode::Timeout);
  CHECK(e.grpc_status() == static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
}

TEST_CASE("a listening socket that never answers gives TIMEOUT_ERROR", "[client][deadline]") {
  SilentListener silent;
  AuthClient client(envelope_credential("127.0.0.1:" + std::to_string(silent.port)),
                    quick(std::chrono::milliseconds(300)));
  Error e = catch_error(
      [&] { client.generate_api_key(PermissionScope::super_user(), ExpiresIn::hours(1)); });
  CHECK(e.code() == ErrorCode::Timeout);
}

TEST_CASE("an unreachable server gives SERVER_UNAVAILABLE", "[client][unavailable]") {
  const int port = closed_port();
  AuthClient client(envelope_credential("127.0.0.1:" + std::to_string(port)), quick());
  Error e = catch_error([&] { client.refresh_api_key("tok"); });
  CHECK(e.code() == ErrorCode::ServerUnavailable);
  CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(std::string(e.what()).find(kCallerRawKey) == std::string::npos);
  // Nothing could have reached a server: a refresher may forget this attempt.
  CHECK(e.not_sent());
  CHECK(std::string(e.what()).find("the request was not sent") != std::string::npos);
}

TEST_CASE("disposable tokens go to the token endpoint with their own request shape",
          "[client][wire][disposable]") {
  RecordingServer control;
  RecordingServer token;
  Credential cred = Credential::from_string(
      encode_envelope("base.example", kCallerRawKey),
      ExplicitEndpointsOverride{control.address(), control.address(), token.address(), false});
  AuthClient client(cred, quick());

  std::string id;
  for (int i = 0; i < 64; ++i) id += "\xC3\xA9";  // 64 code points, 128 bytes
  auto scope = PermissionScope::of({CachePermission{CacheRole::ReadOnly, CacheSelector::named("c"),
                                                    ItemSelector::key_prefix("user-")}});
  Token r = client.generate_disposable_token(scope, ExpiresIn::minutes(10), id);
  CHECK(control.call_count() == 0);
  auto calls = token.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "GenerateDisposableToken");
  ::token::_GenerateDisposableTokenRequest req;
  REQUIRE(req.ParseFromString(calls[0].body));
  CHECK(req.auth_token() == kCallerRawKey);
  CHECK(req.expires().valid_for_seconds() == 600);
  CHECK(req.token_id() == id);
  REQUIRE(req.permissions().explicit_().permissions_size() == 1);
  const auto& cp = req.permissions().explicit_().permissions(0).cache_permissions();
  CHECK(cp.item_selector().key_prefix() == "user-");
  CHECK(r.refresh_token.empty());
  CHECK(r.api_key.reveal() == encode_envelope("advertised.example", "raw-key-from-server"));

  // Client-side rejections, no RPC sent.
  CHECK(catch_error([&] { client.generate_disposable_token(scope, ExpiresIn::never()); }).code() ==
        ErrorCode::InvalidArgument);
  CHECK(catch_error([&] {
          client.generate_disposable_token(scope, ExpiresIn::minutes(1), std::string(65, 'x'));
        }).code() == ErrorCode::InvalidArgument);
  CHECK(catch_error([&] {
          client.generate_disposable_token(PermissionScope::super_user(), ExpiresIn::minutes(1));
        }).code() == ErrorCode::InvalidArgument);
  CHECK(catch_error([&] {
          client.generate_disposable_token(PermissionScope::of({}), ExpiresIn::minutes(1));
        }).code() == ErrorCode::InvalidArgument);
  CHECK(token.call_count() == 1);
}

TEST_CASE("one client shared by threads sends agent exactly once", "[client][threads]") {
  RecordingServer server;
  AuthClient client(envelope_credential(server.address()), quick());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        client.generate_api_key(PermissionScope::all_data_read_write(), ExpiresIn::hours(1));
        ++ok;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 20);
  int with_agent = 0;
  for (const auto& c : server.calls()) with_agent += c.has("agent") ? 1 : 0;
  CHECK(with_agent == 1);
}

TEST_CASE("DataClient sends authorization and cache headers and retries Get/Set/Delete",
          "[data][wire][retry]") {
  RecordingServer server;
  DataClient data(envelope_credential(server.address()));

  data.set("my-cache", "k", "v", std::chrono::seconds(30));
  auto calls = server.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "Set");
  CHECK(calls[0].get("authorization") == kCallerRawKey);
  CHECK(calls[0].get("cache") == "my-cache");
  CHECK(calls[0].get("agent") == std::string("cpp:cache:") + library_version());
  ::cache_client::_SetRequest set;
  REQUIRE(set.ParseFromString(calls[0].body));
  CHECK(set.cache_key() == "k");
  CHECK(set.cache_body() == "v");
  CHECK(set.ttl_milliseconds() == 30000);

  SECTION("transient statuses are retried, at most three attempts") {
    server.fail_next(grpc::Status(grpc::StatusCode::UNAVAILABLE, "blip"), 2);
    CHECK(data.get("my-cache", "k") == std::optional<std::string>("value"));
    CHECK(server.call_count() == 1 + 3);

    server.fail_next(grpc::Status(grpc::StatusCode::INTERNAL, "boom"), 3);
    Error e = catch_error([&] { data.delete_key("my-cache", "k"); });
    CHECK(e.code() == ErrorCode::InternalServer);
    CHECK(server.call_count() == 4 + 3);
  }
  SECTION("other statuses are not retried") {
    server.fail_next(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "Insufficient permissions"));
    Error e = catch_error([&] { data.get("my-cache", "k"); });
    CHECK(e.code() == ErrorCode::Permission);
    CHECK(server.call_count() == 2);
  }
  SECTION("control calls are not retried") {
    server.fail_next(grpc::Status(grpc::StatusCode::UNAVAILABLE, "blip"));
    CHECK(catch_error([&] { data.create_cache("c"); }).code() == ErrorCode::ServerUnavailable);
    CHECK(server.call_count() == 2);
    data.create_cache("c");
    auto all = server.calls();
    CHECK(all.back().get("authorization") == kCallerRawKey);
    CHECK_FALSE(all.back().has("cache"));
    CHECK(data.list_caches() == std::vector<std::string>{"alpha", "beta"});
  }
  SECTION("a miss is nullopt") {
    server.cache_value = "";
    CHECK_FALSE(data.get("my-cache", "k").has_value());
  }
  SECTION("client-side validation sends nothing") {
    CHECK(catch_error([&] { data.get("", "k"); }).code() == ErrorCode::InvalidArgument);
    CHECK(catch_error([&] { data.set("c", "", "v"); }).code() == ErrorCode::InvalidArgument);
    CHECK(catch_error([&] { data.set("c", "k", "v", std::chrono::milliseconds(0)); }).code() ==
          ErrorCode::InvalidArgument);
    CHECK(server.call_count() == 1);
  }
}

TEST_CASE("Ping sends the ping agent and no credential", "[data][wire]") {
  RecordingServer server;
  DataClient data(Credential::local("127.0.0.1", static_cast<uint16_t>(server.port())));
  data.ping();
  auto calls = server.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "Ping");
  CHECK(calls[0].get("agent") == std::string("cpp:ping:") + library_version());
  CHECK_FALSE(calls[0].has("authorization"));
}

TEST_CASE("client configuration is validated", "[client]") {
  auto cred = Credential::local();
  ClientConfig c;
  c.deadline = std::chrono::milliseconds(0);
  CHECK(catch_error([&] { AuthClient a(cred, c); }).code() == ErrorCode::InvalidArgument);
  ClientConfig ca;
  ca.ca_file = "/nonexistent/ca.pem";
  CHECK(catch_error([&] { AuthClient a(cred, ca); }).code() == ErrorCode::InvalidArgument);
  DataClientConfig d;
  d.max_attempts = 0;
  CHECK(catch_error([&] { DataClient a(cred, d); }).code() == ErrorCode::InvalidArgument);
}
