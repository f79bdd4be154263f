// Token files (docs/wire.md §11): parsing, writing, atomic replacement and from_file.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core_test_util.hpp"
#include "momento/auth/credential.hpp"
#include "store/internal.hpp"
#include "temp_dir.hpp"

using namespace momento::auth;
using core_test::contains;
using core_test::expect_invalid;
namespace fs = std::filesystem;

namespace {

const std::string kInner = "inner.api.key";
const std::string kRefresh = "refresh-token-value-123";

using momento::test::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

}  // namespace

TEST_CASE("token file JSON: accepted validUntil forms", "[tokenfile]") {
  const std::string env = encode_envelope("e.example", kInner);
  auto parse = [&](const std::string& valid_until_member) {
    std::string j = R"({"authToken":")" + env + R"(","refreshToken":")" + kRefresh + "\"" +
                    valid_until_member + "}";
    return parse_token_file_json(j);
  };
  CHECK(parse(R"(,"validUntil":"1700000000")").valid_until.epoch() == 1700000000u);
  CHECK(parse(R"(,"validUntil":1700000000)").valid_until.epoch() == 1700000000u);
  CHECK(parse(R"(,"validUntil":1700000000.0)").valid_until.epoch() == 1700000000u);
  CHECK(parse(R"(,"validUntil":"18446744073709551615")").valid_until.epoch() == 18446744073709551615ull);
  for (std::string never : {R"(,"validUntil":0)", R"(,"validUntil":"0")", R"(,"validUntil":null)", ""}) {
    INFO(never);
    Token t = parse(never);
    CHECK_FALSE(t.valid_until.does_expire());
  }
  Token t = parse(R"(,"validUntil":"1700000000")");
  CHECK(t.api_key.reveal() == env);
  CHECK(t.refresh_token.reveal() == kRefresh);

  // Unknown members are ignored; refreshToken may be absent or null; whitespace is fine.
  Token u = parse_token_file_json("\n{ \"authToken\" : \"" + env +
                                      "\", \"extra\": {\"a\": [1, 2]}, \"refreshToken\": null }\n");
  CHECK(u.refresh_token.empty());
  CHECK(parse_token_file_json(R"({"authToken":"x"})").refresh_token.empty());

  // The SDKs' name for the key; authToken wins when both are present.
  Token k = parse_token_file_json(R"({"apiKey":")" + env + R"(","refreshToken":"r"})");
  CHECK(k.api_key.reveal() == env);
  CHECK(k.refresh_token.reveal() == "r");
  CHECK(parse_token_file_json(R"({"authToken":"a","apiKey":"b"})").api_key.reveal() == "a");
  CHECK(parse_token_file_json(R"({"authToken":null,"apiKey":"b"})").api_key.reveal() == "b");
}

TEST_CASE("token file JSON: errors never contain the secrets", "[tokenfile][negative]") {
  const std::string secret = "s3cr3t-auth-token-value";
  auto bad = [&](const std::string& j) { return expect_invalid([&] { parse_token_file_json(j); }, secret); };
  CHECK(contains(bad(""), "JSON"));
  CHECK(contains(bad("{\"authToken\":\"" + secret + "\""), "JSON"));  // truncated
  CHECK(contains(bad("[\"" + secret + "\"]"), "object"));
  CHECK(contains(bad(R"({"refreshToken":")" + secret + "\"}"), "authToken"));
  CHECK(contains(bad(R"({"authToken":""})"), "authToken"));
  CHECK(contains(bad(R"({"authToken":null})"), "authToken"));
  CHECK(contains(bad(R"({"authToken":42})"), "authToken"));
  CHECK(contains(bad(R"({"authToken":")" + secret + R"(","refreshToken":5})"), "refreshToken"));
  for (std::string vu : {R"("-5")", R"("12x")", R"(" 12")", R"("")", "-1", "1.5", "true", "[1]",
                         R"("99999999999999999999")"}) {
    INFO(vu);
    CHECK(contains(bad(R"({"authToken":")" + secret + R"(","validUntil":)" + vu + "}"), "validUntil"));
  }
  bad("{\"authToken\":\"\xff" + secret + "\"}");
}

TEST_CASE("token_file_json writes exactly three members", "[tokenfile]") {
  Token t;
  t.api_key = Secret("AUTH");
  t.refresh_token = Secret("REF");
  t.valid_until = ExpiresAt::from_epoch(1700000000);
  CHECK(token_file_json(t) == R"({"authToken":"AUTH","refreshToken":"REF","validUntil":"1700000000"})");
  Token n;
  n.api_key = Secret("AUTH");
  CHECK(token_file_json(n) == R"({"authToken":"AUTH","refreshToken":"","validUntil":"0"})");
  Token e;
  expect_invalid([&] { token_file_json(e); });
  // Round trip.
  Token back = parse_token_file_json(token_file_json(t));
  CHECK(back.api_key.reveal() == "AUTH");
  CHECK(back.refresh_token.reveal() == "REF");
  CHECK(back.valid_until == t.valid_until);
}

TEST_CASE("write_token_file / read_token_file / from_file", "[tokenfile]") {
  TempDir dir;
  const fs::path file = dir.path / "momento_token.info.json";
  Token t;
  t.api_key = Secret(encode_envelope("test.momentohq.com", kInner));
  t.refresh_token = Secret(kRefresh);
  t.valid_until = ExpiresAt::from_epoch(1900000000);
  write_token_file(file.string(), t);

  struct stat st{};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(slurp(file) == token_file_json(t));
  // No temporary files are left behind.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) { (void)e; ++entries; }
  CHECK(entries == 1);

  Token r = read_token_file(file.string());
  CHECK(r.api_key.reveal() == t.api_key.reveal());
  CHECK(r.refresh_token.reveal() == kRefresh);
  CHECK(r.valid_until.epoch() == 1900000000u);

  Credential c = Credential::from_file(file.string());
  CHECK(c.kind() == CredentialKind::V1Envelope);
  CHECK(c.raw_key() == kInner);
  CHECK(c.refresh_token() == kRefresh);
  REQUIRE(c.expires_at().has_value());
  CHECK(c.expires_at()->epoch() == 1900000000u);
  CHECK(c.endpoints().control.host == "control.test.momentohq.com");
  Credential o = Credential::from_file(file.string(), SingleEndpointOverride{"127.0.0.1:9", false});
  CHECK(o.endpoints().token == Endpoint{"127.0.0.1", 9, false});

  // Replace atomically: a file that was 0644 becomes 0600 with the new contents.
  ::chmod(file.c_str(), 0644);
  Token t2;
  t2.api_key = Secret(encode_envelope("test.momentohq.com", "second-key"));
  write_token_file(file.string(), t2);
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  Credential c2 = Credential::from_file(file.string());
  CHECK(c2.raw_key() == "second-key");
  CHECK(c2.refresh_token().empty());
  REQUIRE(c2.expires_at().has_value());
  CHECK_FALSE(c2.expires_at()->does_expire());
}

TEST_CASE("from_file: expiry falls back to the key's exp claim", "[tokenfile]") {
  TempDir dir;
  const fs::path file = dir.path / "t.json";
  // Inner key is a JWT with exp; the file has no validUntil.
  std::string inner = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE5NTAwMDAwMDB9.c2ln";  // {"exp":1950000000}
  spit(file, R"({"authToken":")" + encode_envelope("e.example", inner) + R"("})");
  Credential c = Credential::from_file(file.string());
  REQUIRE(c.expires_at().has_value());
  CHECK(c.expires_at()->epoch() == 1950000000u);
}

TEST_CASE("token file read errors name the path, not the contents", "[tokenfile][negative]") {
  TempDir dir;
  const std::string secret = "very-secret-auth-token";
  const fs::path missing = dir.path / "missing.json";
  CHECK(contains(expect_invalid([&] { read_token_file(missing.string()); }), missing.string()));
  CHECK(contains(expect_invalid([&] { read_token_file(missing.string()); }), "is missing"));
  CHECK(contains(expect_invalid([&] { Credential::from_file(missing.string()); }), missing.string()));
  expect_invalid([] { read_token_file(""); });
  CHECK(contains(expect_invalid([&] { read_token_file(dir.path.string()); }), "regular file"));

  const fs::path broken = dir.path / "broken.json";
  spit(broken, "{\"authToken\": \"" + secret);
  std::string m = expect_invalid([&] { read_token_file(broken.string()); }, secret);
  CHECK(contains(m, broken.string()));

  const fs::path big = dir.path / "big.json";
  spit(big, std::string(65 * 1024, ' '));
  CHECK(contains(expect_invalid([&] { read_token_file(big.string()); }), "too large"));

  // authToken present but not a credential.
  const fs::path notcred = dir.path / "notcred.json";
  spit(notcred, R"({"authToken":"not a credential )" + secret + R"("})");
  std::string nm = expect_invalid([&] { Credential::from_file(notcred.string()); }, secret);
  CHECK(contains(nm, notcred.string()));

  // Writing into a directory that does not exist fails with the path in the message.
  Token t;
  t.api_key = Secret(secret);
  const fs::path nodir = dir.path / "no" / "such" / "file.json";
  CHECK(contains(expect_invalid([&] { write_token_file(nodir.string(), t); }, secret), nodir.string()));
  expect_invalid([&] { write_token_file("", t); });
  expect_invalid([&] { write_token_file((dir.path / "x.json").string(), Token{}); });
}

TEST_CASE("a Secrets Manager answer's CreatedDate is a time between 1970 and 9999", "[tokenfile][aws]") {
  const std::string secret = "{\\\"authToken\\\":\\\"" + kInner + "\\\"}";
  auto answer = [&](const std::string& created) {
    return "{\"SecretString\":\"" + secret + "\",\"VersionId\":\"v1\"" +
           (created.empty() ? "" : ",\"CreatedDate\":" + created) + "}";
  };
  auto written = [&](const std::string& created) {
    return aws::parse_secret_value(answer(created), "s").written_at_ms;
  };
  CHECK(written("") == std::nullopt);
  CHECK(written("1700000000.123") == int64_t{1700000000123});
  CHECK(written("0") == int64_t{0});
  CHECK(written("253402300799") == int64_t{253402300799000});
  for (const char* bad : {"-1", "-0.5", "253402300800", "1e300", "-1e300", "\"2024-01-01\"", "null", "true"}) {
    INFO(bad);
    try {
      (void)written(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(contains(e.what(), "CreatedDate"));
    }
  }
}

TEST_CASE("token file JSON: a key is written back in the shape it was read in", "[tokenfile]") {
  Token fresh;
  fresh.api_key = Secret("NEW");
  fresh.refresh_token = Secret("NEWR");
  fresh.valid_until = ExpiresAt::from_epoch(1800000000);
  auto again = [&](const std::string& text) {
    TokenJson shape;
    Token read = parse_token_file_json(text, &shape);
    CHECK(read.api_key.reveal() == "OLD");
    return token_file_json(fresh, shape);
  };
  // Other members kept in place, the key member and validUntil's type as read.
  CHECK(again(R"({"owner":"a","authToken":"OLD","refreshToken":"R","validUntil":"1700000000"})") ==
        R"({"owner":"a","authToken":"NEW","refreshToken":"NEWR","validUntil":"1800000000"})");
  CHECK(again(R"({"apiKey":"OLD","validUntil":1700000000,"x":{"y":[1,2]}})") ==
        R"({"apiKey":"NEW","validUntil":1800000000,"x":{"y":[1,2]},"refreshToken":"NEWR"})");
  CHECK(again(R"({"apiToken":"OLD","validUntil":null})") ==
        R"({"apiToken":"NEW","validUntil":"1800000000","refreshToken":"NEWR"})");
  // authToken wins; a null one passes on to the next name.
  CHECK(again(R"({"authToken":null,"apiKey":"OLD"})") ==
        R"({"authToken":null,"apiKey":"NEW","refreshToken":"NEWR","validUntil":"1800000000"})");
  // Commas left before a closing brace or bracket by hand edits; strings are left alone.
  CHECK(again("{\"authToken\":\"OLD\",\"n\":\"a, }\",\"l\":[1, 2 ,\n],\r\n}") ==
        R"({"authToken":"NEW","n":"a, }","l":[1,2],"refreshToken":"NEWR","validUntil":"1800000000"})");
  CHECK(parse_token_file_json("{\"authToken\":\"a\\\",}\",}").api_key.reveal() == "a\",}");
  // The default shape is what token_file_json always wrote.
  CHECK(token_file_json(fresh, TokenJson{}) == token_file_json(fresh));
}

TEST_CASE("token file JSON: trailing commas do not open the door to other errors", "[tokenfile][negative]") {
  const std::string secret = "s3cr3t-auth-token-value";
  auto bad = [&](const std::string& j) { return expect_invalid([&] { parse_token_file_json(j); }, secret); };
  CHECK(contains(bad("{\"authToken\":\"" + secret + "\",,}"), "JSON"));
  CHECK(contains(bad("{,\"authToken\":\"" + secret + "\"}"), "JSON"));
  CHECK(contains(bad("[\"" + secret + "\",]"), "object"));
  CHECK(contains(bad("{\"authToken\":\"" + secret + "\",}x"), "JSON"));
}
