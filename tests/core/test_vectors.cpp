// Every vector of vectors.json, driven from the vector's own expected fields.
#include <google/protobuf/text_format.h>

#include <set>

#include "auth.pb.h"
#include "core_test_util.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/scope.hpp"
#include "permissionmessages.pb.h"
#include "util/encoding.hpp"
#include "util/jwt.hpp"

using namespace momento::auth;
using core_test::expect_invalid;
using nlohmann::json;

namespace {

void check_endpoint(const Endpoint& e, const std::string& host, const json& exp) {
  CHECK(e.host == host);
  CHECK(e.port == exp.value("port", 443));
  CHECK(e.secure == exp.value("secure", true));
}

void check_endpoints(const Credential& c, const json& exp) {
  check_endpoint(c.endpoints().control, exp.at("control").get<std::string>(), exp);
  check_endpoint(c.endpoints().cache, exp.at("cache").get<std::string>(), exp);
  check_endpoint(c.endpoints().token, exp.at("token").get<std::string>(), exp);
}

EndpointOverride override_from(const json& o) {
  if (o.contains("base_endpoint")) {
    BaseEndpointOverride b;
    b.base_endpoint = o.at("base_endpoint").get<std::string>();
    b.endpoint_prefix = o.value("endpoint_prefix", std::string());
    b.secure = o.value("secure", true);
    return b;
  }
  if (o.contains("control_endpoint")) {
    ExplicitEndpointsOverride x;
    x.control = o.at("control_endpoint").get<std::string>();
    x.cache = o.at("cache_endpoint").get<std::string>();
    x.token = o.at("token_endpoint").get<std::string>();
    x.secure = o.value("secure", true);
    return x;
  }
  FAIL("unsupported override form in vector: " << o.dump());
  return SingleEndpointOverride{};
}

void require_error(const json& exp, const std::function<void()>& fn, const std::string& secret) {
  REQUIRE(exp.at("error") == "INVALID_ARGUMENT_ERROR");
  expect_invalid(fn, secret);
}

CredentialKind kind_from_format(const std::string& f) {
  for (auto k : {CredentialKind::V1Envelope, CredentialKind::V2ApiKey, CredentialKind::LegacyJwt,
                 CredentialKind::SessionToken, CredentialKind::Local}) {
    if (f == credential_kind_name(k)) return k;
  }
  FAIL("unknown format " << f);
  return CredentialKind::Local;
}

// The expected members this driver understands; a vector with any other member fails so that
// new spec content cannot be silently skipped.
const std::set<std::string> kCredentialMembers = {
    "format", "jwt_header", "jwt_payload", "jwt_payload_note", "auth_token", "endpoint",
    "endpoints", "endpoints_note", "with_overrides", "v2_path", "v2_path_empty_endpoint",
    "legacy_path", "disposable_token_path", "refresh", "decoded_json", "decoded_json_text",
    "inner_key_note", "canonical_reencoding", "canonical_reencoding_note", "error", "reason",
    "rpc_sent"};

void run_credential_vector(const json& v) {
  const std::string input = v.at("input").get<std::string>();
  REQUIRE(v.at("input_encoding") == "utf8");
  const json& exp = v.at("expected");
  for (auto it = exp.begin(); it != exp.end(); ++it) {
    INFO("expected member " << it.key());
    CHECK(kCredentialMembers.count(it.key()) == 1);
  }
  const std::string format = exp.value("format", std::string());

  if (exp.contains("jwt_header") || exp.contains("jwt_payload")) {
    auto jwt = detail::decode_jwt_unverified(input);
    REQUIRE(jwt.has_value());
    if (exp.contains("jwt_header")) CHECK(json::parse(jwt->header.dump()) == exp.at("jwt_header"));
    if (exp.contains("jwt_payload")) CHECK(json::parse(jwt->payload.dump()) == exp.at("jwt_payload"));
  }

  if (exp.contains("error")) {
    // A top-level error: the string fails on the v1/legacy and disposable paths.
    CHECK_FALSE(exp.value("rpc_sent", false));
    require_error(exp, [&] { Credential::from_string(input); }, "");
    require_error(exp, [&] { Credential::from_disposable_token(input); }, "");
    if (exp.contains("decoded_json_text")) {
      auto decoded = detail::base64_decode(input);
      REQUIRE(decoded.has_value());
      CHECK(*decoded == exp.at("decoded_json_text").get<std::string>());
    }
    return;
  }

  if (format == "v2_api_key") {
    // Rejected on the v1/legacy and disposable paths; the key itself must never be echoed.
    require_error(exp.at("legacy_path"), [&] { Credential::from_string(input); }, input);
    require_error(exp.at("disposable_token_path"),
                  [&] { Credential::from_disposable_token(input); }, input);
    const json& p = exp.at("v2_path");
    Credential c = Credential::from_v2(input, p.at("endpoint_argument").get<std::string>());
    CHECK(c.kind() == CredentialKind::V2ApiKey);
    CHECK(c.raw_key() == p.at("auth_token").get<std::string>());
    CHECK(c.base_endpoint() == p.at("endpoint_argument").get<std::string>());
    CHECK(c.endpoints_overridden() == p.at("endpoints_overridden").get<bool>());
    check_endpoints(c, p.at("endpoints"));
    if (exp.contains("v2_path_empty_endpoint")) {
      require_error(exp.at("v2_path_empty_endpoint"), [&] { Credential::from_v2(input, ""); },
                    input);
    }
    // exp.refresh is a client-side (AuthClient) rule; covered by the client tests.
    return;
  }

  // v1 envelopes and legacy JWTs.
  Credential c = Credential::from_string(input);
  CHECK(c.kind() == kind_from_format(format));
  CHECK(credential_kind_name(c.kind()) == format);
  CHECK(c.raw_key() == exp.at("auth_token").get<std::string>());
  CHECK(c.original() == input);
  CHECK_FALSE(c.endpoints_overridden());
  check_endpoints(c, exp.at("endpoints"));
  // The disposable path accepts the same strings.
  CHECK(Credential::from_disposable_token(input).raw_key() == c.raw_key());

  if (exp.contains("endpoint")) CHECK(c.base_endpoint() == exp.at("endpoint").get<std::string>());
  if (exp.contains("decoded_json")) {
    const json& d = exp.at("decoded_json");
    CHECK(c.raw_key() == d.at("api_key").get<std::string>());
    CHECK(c.base_endpoint() == d.at("endpoint").get<std::string>());
  }
  if (exp.contains("canonical_reencoding")) {
    const std::string canon = exp.at("canonical_reencoding").get<std::string>();
    CHECK(encode_envelope(c.base_endpoint(), c.raw_key()) == canon);
    Credential again = Credential::from_string(canon);
    CHECK(again.raw_key() == c.raw_key());
    CHECK(again.base_endpoint() == c.base_endpoint());
    CHECK(again.endpoints() == c.endpoints());
  }
  if (exp.contains("with_overrides")) {
    for (const auto& w : exp.at("with_overrides")) {
      INFO("override " << w.at("overrides").dump());
      EndpointOverride o = override_from(w.at("overrides"));
      Credential oc = Credential::from_string(input, o);
      CHECK(oc.endpoints_overridden());
      CHECK(oc.raw_key() == w.at("auth_token").get<std::string>());
      check_endpoints(oc, w.at("endpoints"));
      Credential wc = c.with_override(o);
      CHECK(wc.endpoints() == oc.endpoints());
      CHECK(wc.raw_key() == oc.raw_key());
      CHECK(wc.endpoints_overridden());
    }
  }
  if (exp.contains("v2_path")) {
    require_error(exp.at("v2_path"), [&] { Credential::from_v2(input, "some.endpoint"); }, input);
  }
}

// --- proto vectors ---------------------------------------------------------------------------

CacheRole cache_role_from(const std::string& s) {
  if (s.rfind("CacheReadWrite", 0) == 0) return CacheRole::ReadWrite;
  if (s.rfind("CacheReadOnly", 0) == 0) return CacheRole::ReadOnly;
  if (s.rfind("CacheWriteOnly", 0) == 0) return CacheRole::WriteOnly;
  if (s.rfind("CachePermitNone", 0) == 0) return CacheRole::PermitNone;
  FAIL("unknown cache role " << s);
  return CacheRole::PermitNone;
}

// Our scope model for a vector's description of a Permissions message.
PermissionScope scope_from_description(const json& f) {
  if (f.at("kind") == "super_user") {
    REQUIRE(f.at("super_user").get<std::string>().rfind("SuperUser", 0) == 0);
    return PermissionScope::super_user();
  }
  REQUIRE(f.at("kind") == "explicit");
  std::vector<Permission> entries;
  for (const auto& e : f.at("explicit.permissions")) {
    REQUIRE(e.at("kind") == "cache_permissions");  // the only kind the vectors use today
    CachePermission p;
    p.role = cache_role_from(e.at("role").get<std::string>());
    const json& cache = e.at("cache");
    if (cache.contains("all_caches")) {
      p.cache = CacheSelector::all_caches();
    } else {
      p.cache = CacheSelector::named(cache.at("cache_selector").at("cache_name").get<std::string>());
    }
    REQUIRE(e.value("cache_item", std::string("unset")).rfind("unset", 0) == 0);
    p.item = ItemSelector::unset();
    entries.push_back(p);
  }
  return PermissionScope::of(std::move(entries));
}

void check_permissions_decoded(const permission_messages::Permissions& m, const json& f) {
  PermissionScope expected = scope_from_description(f);
  if (expected.is_super_user()) {
    CHECK(m.kind_case() == permission_messages::Permissions::kSuperUser);
    CHECK(m.super_user() == permission_messages::SuperUser);
  } else {
    CHECK(m.kind_case() == permission_messages::Permissions::kExplicit);
    for (const auto& t : m.explicit_().permissions()) {
      if (t.has_cache_permissions()) {
        // Vectors say "unset" for API-key scopes: the cache_item oneof must be absent.
        CHECK(t.cache_permissions().cache_item_case() ==
              permission_messages::PermissionsType::CachePermissions::CACHE_ITEM_NOT_SET);
      }
    }
  }
  CHECK(scope_from_proto(m) == expected);
}

std::string single_line_text(const google::protobuf::Message& m) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string out;
  printer.PrintToString(m, &out);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void run_proto_vector(const json& v) {
  REQUIRE(v.at("input_encoding") == "hex");
  const std::string hex = v.at("input").get<std::string>();
  const std::string bytes = core_test::from_hex(hex);
  const json& exp = v.at("expected");
  const json& f = exp.at("fields");
  const std::string name = exp.at("message").get<std::string>();
  std::unique_ptr<google::protobuf::Message> built;
  std::unique_ptr<google::protobuf::Message> parsed;

  if (name == "permission_messages.Permissions") {
    auto m = std::make_unique<permission_messages::Permissions>();
    scope_to_proto(scope_from_description(f), ScopeUse::ApiKey, m.get());
    auto d = std::make_unique<permission_messages::Permissions>();
    REQUIRE(d->ParseFromString(bytes));
    check_permissions_decoded(*d, f);
    built = std::move(m);
    parsed = std::move(d);
  } else if (name == "auth._GenerateApiTokenRequest") {
    auto m = std::make_unique<auth::_GenerateApiTokenRequest>();
    const json& expiry = f.at("expiry");
    if (expiry.contains("never")) {
      m->mutable_never();
    } else {
      ExpiresIn e = ExpiresIn::seconds(expiry.at("expires").at("valid_for_seconds").get<int64_t>());
      m->mutable_expires()->set_valid_for_seconds(e.valid_for_seconds());
    }
    m->set_auth_token(f.at("auth_token").get<std::string>());
    scope_to_proto(scope_from_description(f.at("permissions")), ScopeUse::ApiKey,
                   m->mutable_permissions());
    auto d = std::make_unique<auth::_GenerateApiTokenRequest>();
    REQUIRE(d->ParseFromString(bytes));
    if (expiry.contains("never")) {
      CHECK(d->expiry_case() == auth::_GenerateApiTokenRequest::kNever);
    } else {
      CHECK(d->expiry_case() == auth::_GenerateApiTokenRequest::kExpires);
      CHECK(d->expires().valid_for_seconds() ==
            expiry.at("expires").at("valid_for_seconds").get<uint32_t>());
    }
    CHECK(d->auth_token() == f.at("auth_token").get<std::string>());
    REQUIRE(d->has_permissions());
    check_permissions_decoded(d->permissions(), f.at("permissions"));
    CHECK(d->token_id().empty());
    CHECK(d->description().empty());
    built = std::move(m);
    parsed = std::move(d);
  } else if (name == "auth._RefreshApiTokenRequest") {
    auto m = std::make_unique<auth::_RefreshApiTokenRequest>();
    m->set_api_key(f.at("api_key").get<std::string>());
    m->set_refresh_token(f.at("refresh_token").get<std::string>());
    auto d = std::make_unique<auth::_RefreshApiTokenRequest>();
    REQUIRE(d->ParseFromString(bytes));
    CHECK(d->api_key() == f.at("api_key").get<std::string>());
    CHECK(d->refresh_token() == f.at("refresh_token").get<std::string>());
    built = std::move(m);
    parsed = std::move(d);
  } else if (name == "auth._GenerateApiTokenResponse") {
    auto m = std::make_unique<auth::_GenerateApiTokenResponse>();
    m->set_api_key(f.at("api_key").get<std::string>());
    m->set_refresh_token(f.at("refresh_token").get<std::string>());
    m->set_endpoint(f.at("endpoint").get<std::string>());
    m->set_valid_until(f.at("valid_until").get<uint64_t>());
    auto d = std::make_unique<auth::_GenerateApiTokenResponse>();
    REQUIRE(d->ParseFromString(bytes));
    CHECK(d->api_key() == f.at("api_key").get<std::string>());
    CHECK(d->refresh_token() == f.at("refresh_token").get<std::string>());
    CHECK(d->endpoint() == f.at("endpoint").get<std::string>());
    CHECK(d->valid_until() == f.at("valid_until").get<uint64_t>());
    CHECK(ExpiresAt::from_epoch(d->valid_until()).does_expire());
    // The same bytes are a valid RefreshApiToken response with identical fields.
    auth::_RefreshApiTokenResponse r;
    REQUIRE(r.ParseFromString(bytes));
    CHECK(r.api_key() == d->api_key());
    CHECK(r.refresh_token() == d->refresh_token());
    CHECK(r.endpoint() == d->endpoint());
    CHECK(r.valid_until() == d->valid_until());
    built = std::move(m);
    parsed = std::move(d);
  } else {
    FAIL("no driver for proto message " << name);
  }

  std::string out;
  REQUIRE(built->SerializeToString(&out));
  CHECK(core_test::to_hex(out) == hex);
  // Re-encoding what we decoded gives the same bytes again.
  std::string again;
  REQUIRE(parsed->SerializeToString(&again));
  CHECK(core_test::to_hex(again) == hex);
  if (exp.contains("protoc_text")) {
    CHECK(single_line_text(*parsed) == exp.at("protoc_text").get<std::string>());
  }
}

}  // namespace

TEST_CASE("vectors.json is readable and has both kinds", "[vectors]") {
  const json& doc = core_test::vectors();
  REQUIRE(doc.at("format_version") == 1);
  size_t cred = 0, proto = 0;
  for (const auto& v : doc.at("vectors")) {
    if (v.at("kind") == "credential") ++cred;
    if (v.at("kind") == "proto") ++proto;
  }
  CHECK(cred >= 5);
  CHECK(proto >= 6);
}

TEST_CASE("every credential vector", "[vectors][credential]") {
  for (const auto& v : core_test::vectors().at("vectors")) {
    if (v.at("kind") != "credential") continue;
    const std::string id = v.at("id").get<std::string>();
    DYNAMIC_SECTION(id) { run_credential_vector(v); }
  }
}

TEST_CASE("every proto vector", "[vectors][proto]") {
  for (const auto& v : core_test::vectors().at("vectors")) {
    if (v.at("kind") != "proto") continue;
    const std::string id = v.at("id").get<std::string>();
    DYNAMIC_SECTION(id) { run_proto_vector(v); }
  }
}

TEST_CASE("unknown vector kinds are not silently skipped", "[vectors]") {
  for (const auto& v : core_test::vectors().at("vectors")) {
    INFO(v.at("id").get<std::string>());
    CHECK((v.at("kind") == "credential" || v.at("kind") == "proto"));
  }
}

TEST_CASE("Permissions vectors via scope_to_proto of the named scopes", "[vectors][scope]") {
  // SuperUser scope -> 08 00
  permission_messages::Permissions su;
  scope_to_proto(PermissionScope::super_user(), ScopeUse::ApiKey, &su);
  std::string bytes;
  REQUIRE(su.SerializeToString(&bytes));
  CHECK(core_test::to_hex(bytes) == core_test::vector_by_id("proto-permissions-super-user").at("input"));

  // CacheReadOnly on "my-cache"
  permission_messages::Permissions ro;
  scope_to_proto(PermissionScope::of({CachePermission{CacheRole::ReadOnly,
                                                      CacheSelector::named("my-cache"),
                                                      ItemSelector::unset()}}),
                 ScopeUse::ApiKey, &ro);
  REQUIRE(ro.SerializeToString(&bytes));
  CHECK(core_test::to_hex(bytes) ==
        core_test::vector_by_id("proto-permissions-cache-read-only").at("input"));
}
