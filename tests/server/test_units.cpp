// Unit tests of the server's parts: encoding, JWT signing/verification, sealing, authz.
#include <catch2/catch.hpp>
#include <filesystem>

#include "authz.hpp"
#include "crypto.hpp"
#include "faults.hpp"
#include "jwt.hpp"
#include "permissionmessages.pb.h"
#include <nlohmann/json.hpp>
#include "temp_dir.hpp"

using namespace momento::server;
namespace fs = std::filesystem;
namespace pm = permission_messages;

namespace {
using momento::test::TempDir;
}  // namespace

TEST_CASE("base64url round trip and strictness", "[unit]") {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto enc = base64url_encode(s);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(enc.find('+') == std::string::npos);
    CHECK(enc.find('/') == std::string::npos);
    auto dec = base64url_decode_canonical(enc);
    REQUIRE(dec);
    CHECK(*dec == s);
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(base64url_decode_canonical("a+b/"));   // standard alphabet is not base64url
  CHECK_FALSE(base64url_decode_canonical("abcde"));  // impossible length
  CHECK_FALSE(base64url_decode_canonical("ab.c"));
  CHECK_FALSE(base64url_decode_canonical("Zh"));     // non-canonical trailing bits ("Zg" is "f")
  CHECK(base64url_decode_canonical("Zg==").value() == "f");
}

TEST_CASE("random tokens are long and distinct", "[unit]") {
  auto a = random_token(16), b = random_token(16);
  CHECK(a.size() == 22);
  CHECK(a != b);
}

TEST_CASE("seal and open", "[unit]") {
  std::string sealed = seal("secret-1", "hello");
  CHECK(sealed.find("hello") == std::string::npos);
  CHECK(open_sealed("secret-1", sealed).value() == "hello");
  CHECK_FALSE(open_sealed("secret-2", sealed));
  sealed[14] ^= 1;
  CHECK_FALSE(open_sealed("secret-1", sealed));
}

TEST_CASE("JWT sign and verify with an allow-listed algorithm", "[unit][jwt]") {
  TempDir dir;
  auto ring = KeyRing::open(dir.path / "keys.json");
  CHECK((fs::status(dir.path / "keys.json").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  Claims c{random_token(16), 1000, 2000};
  std::string jwt = sign_jwt(ring, c);
  Claims out;
  CHECK(verify_jwt(ring, jwt, 1500, &out) == JwtCheck::Ok);
  CHECK(out.jti == c.jti);
  CHECK(out.exp == 2000);
  CHECK(verify_jwt(ring, jwt, 2000, &out) == JwtCheck::Expired);

  SECTION("tampered payload") {
    auto d1 = jwt.find('.');
    auto d2 = jwt.find('.', d1 + 1);
    std::string payload = *base64url_decode_canonical(jwt.substr(d1 + 1, d2 - d1 - 1));
    payload.replace(payload.find("2000"), 4, "9999");
    std::string forged = jwt.substr(0, d1 + 1) + base64url_encode(payload) + jwt.substr(d2);
    CHECK(verify_jwt(ring, forged, 1500, nullptr) == JwtCheck::BadSignature);
  }
  SECTION("alg none and other algorithms are refused") {
    auto d1 = jwt.find('.');
    for (std::string alg : {"none", "HS512", "RS256"}) {
      std::string header = base64url_encode("{\"alg\":\"" + alg + "\",\"kid\":\"" + ring.current_kid() + "\"}");
      std::string forged = header + jwt.substr(d1);
      CHECK(verify_jwt(ring, forged, 1500, nullptr) == JwtCheck::BadAlgorithm);
    }
  }
  SECTION("malformed") {
    CHECK(verify_jwt(ring, "a.b", 0, nullptr) == JwtCheck::Malformed);
    CHECK(verify_jwt(ring, "a.b.c.d", 0, nullptr) == JwtCheck::Malformed);
    CHECK(verify_jwt(ring, "", 0, nullptr) == JwtCheck::Malformed);
  }
  SECTION("rotation keeps old keys verifiable; new keys use the new kid") {
    std::string old_kid = ring.current_kid();
    std::string kid = ring.rotate();
    CHECK(kid != old_kid);
    CHECK(verify_jwt(ring, jwt, 1500, nullptr) == JwtCheck::Ok);
    std::string fresh = sign_jwt(ring, Claims{random_token(16), 1000, 0});
    CHECK(verify_jwt(ring, fresh, 5000, nullptr) == JwtCheck::Ok);  // never expires
    // A second process sees the rotation through the file.
    auto other = KeyRing::open(dir.path / "keys.json");
    CHECK(other.current_kid() == kid);
    CHECK(verify_jwt(other, jwt, 1500, nullptr) == JwtCheck::Ok);
  }
}

TEST_CASE("fault plans follow the headers", "[unit][faults]") {
  Faults f;
  std::multimap<grpc::string_ref, grpc::string_ref> md;
  CHECK(f.plan(md, "/cache_client.Scs/Get").empty());
  md.emplace("return-error", "unavailable");
  md.emplace("error-rpcs", "get set");
  md.emplace("error-count", "2");
  md.emplace("request-id", "r1");
  CHECK(f.plan(md, "/cache_client.Scs/Delete").empty());
  CHECK(f.plan(md, "/cache_client.Scs/Get").error == grpc::StatusCode::UNAVAILABLE);
  CHECK(f.plan(md, "/cache_client.Scs/Set").error == grpc::StatusCode::UNAVAILABLE);
  CHECK(f.plan(md, "/cache_client.Scs/Get").empty());  // count used up
  CHECK(parse_status_code("DEADLINE_EXCEEDED") == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(parse_status_code("deadline-exceeded") == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(parse_status_code("14") == grpc::StatusCode::UNAVAILABLE);
  CHECK_FALSE(parse_status_code("bogus"));
}

TEST_CASE("JWT segments are compact JSON with sorted keys", "[unit][jwt]") {
  TempDir dir;
  auto ring = KeyRing::open(dir.path / "keys.json");
  for (int64_t exp : {int64_t{0}, int64_t{2000}}) {
    std::string kid;
    std::string jwt = sign_jwt(ring, Claims{random_token(16), 1000, exp}, &kid);
    CHECK(kid == ring.current_kid());
    auto d1 = jwt.find('.'), d2 = jwt.find('.', d1 + 1);
    auto header = base64url_decode_canonical(jwt.substr(0, d1));
    auto payload = base64url_decode_canonical(jwt.substr(d1 + 1, d2 - d1 - 1));
    REQUIRE(header);
    REQUIRE(payload);
    // nlohmann::json dumps objects compactly with sorted keys: the same bytes round-trip.
    CHECK(nlohmann::json::parse(*header).dump() == *header);
    CHECK(nlohmann::json::parse(*payload).dump() == *payload);
    CHECK(nlohmann::json::parse(*header).at("kid") == kid);
    CHECK(nlohmann::json::parse(*payload).contains("exp") == (exp != 0));
    CHECK(nlohmann::json::parse(*payload).at("ver") == 1);
  }
  // A jti that needs escaping still gives valid JSON.
  std::string jwt = sign_jwt(ring, Claims{"a\"b\\c", 1000, 0});
  Claims out;
  CHECK(verify_jwt(ring, jwt, 1500, &out) == JwtCheck::Ok);
  CHECK(out.jti == "a\"b\\c");
}
