// C ABI, token module: Download-JSON text and file, accessors, validation.
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capi_test_util.hpp"

using namespace capi_test;

TEST_CASE("tokens as Download-JSON text and file", "[capi][token][server]") {
  Server srv;
  Err err;
  Client admin = client_from_file(srv.bootstrap_file(), srv.address());
  Scope rw = predefined(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  Expires hour = expires(MOMENTO_EXPIRES_HOURS, 1);
  Token t;
  REQUIRE_OK(err, momento_auth_client_generate_api_key(t.out(), admin.get(), rw.get(), hour.get(),
                                                       err.out()));

  char *json = nullptr;
  REQUIRE_OK(err, momento_token_to_json(&json, t.get(), err.out()));
  REQUIRE(json != nullptr);
  auto doc = nlohmann::json::parse(json);
  momento_free(json);
  CHECK(doc.size() == 3);
  CHECK(doc["authToken"] == momento_token_api_key(t.get()));
  CHECK(doc["refreshToken"] == momento_token_refresh_token(t.get()));
  CHECK(doc["validUntil"] == std::to_string(momento_token_valid_until(t.get())));

  TempDir dir;
  std::string path = dir.file("momento_token.info.json");
  REQUIRE_OK(err, momento_token_write_file(t.get(), path.c_str(), err.out()));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  CHECK(nlohmann::json::parse(text.str()) == doc);

  // Round trip: the file is a credential with its refresh token and expiry.
  Override ov;
  REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), srv.address().c_str(), 0, err.out()));
  Credential c;
  REQUIRE_OK(err, momento_credential_from_file(c.out(), path.c_str(), ov.get(), err.out()));
  CHECK(std::string(momento_credential_refresh_token(c.get())) == momento_token_refresh_token(t.get()));
  int32_t state = 0;
  uint64_t epoch = 0;
  REQUIRE_OK(err, momento_credential_expiry(&state, &epoch, c.get(), err.out()));
  CHECK(state == MOMENTO_EXPIRY_AT);
  CHECK(epoch == momento_token_valid_until(t.get()));

  // ... and refreshing from it works.
  Client fromfile;
  REQUIRE_OK(err, momento_auth_client_new(fromfile.out(), c.get(), nullptr, err.out()));
  Token r;
  REQUIRE_OK(err, momento_auth_client_refresh_api_key(r.out(), fromfile.get(),
                                                      momento_credential_refresh_token(c.get()),
                                                      err.out()));
  REQUIRE_OK(err, momento_token_write_file(r.get(), path.c_str(), err.out()));  // atomic replace
  Credential c2;
  REQUIRE_OK(err, momento_credential_from_file(c2.out(), path.c_str(), ov.get(), err.out()));
  CHECK(std::string(momento_credential_refresh_token(c2.get())) ==
        momento_token_refresh_token(r.get()));

  SECTION("a token rebuilt from its parts writes the same JSON and file") {
    Token parts;
    REQUIRE_OK(err, momento_token_new(parts.out(), momento_token_api_key(t.get()),
                                      momento_token_refresh_token(t.get()),
                                      momento_token_valid_until(t.get()), err.out()));
    CHECK(std::string(momento_token_endpoint(parts.get())) == momento_token_endpoint(t.get()));
    char *again = nullptr;
    REQUIRE_OK(err, momento_token_to_json(&again, parts.get(), err.out()));
    CHECK(nlohmann::json::parse(again) == doc);
    momento_free(again);
    std::string copy = dir.file("copy.json");
    REQUIRE_OK(err, momento_token_write_file(parts.get(), copy.c_str(), err.out()));
    std::stringstream copied;
    copied << std::ifstream(copy).rdbuf();
    CHECK(nlohmann::json::parse(copied.str()) == doc);
  }

  SECTION("validation with a real token") {
    char *untouched = reinterpret_cast<char *>(0x1);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_token_to_json(nullptr, t.get(), err.out()));
    for (const char *bad : {static_cast<const char *>(nullptr), "", kBadUtf8})
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_token_write_file(t.get(), bad, err.out()));
    // A directory that does not exist: the write fails and says so without the secret.
    std::string missing = dir.file("no/such/dir/t.json");
    momento_status_t st2 = momento_token_write_file(t.get(), missing.c_str(), err.out());
    CHECK(st2 != MOMENTO_OK);
    REQUIRE(err.p != nullptr);
    CHECK(err.message().find(momento_token_refresh_token(t.get())) == std::string::npos);
    CHECK(untouched == reinterpret_cast<char *>(0x1));
  }
}

TEST_CASE("token argument validation", "[capi][token][validation]") {
  Err err;
  char *out = reinterpret_cast<char *>(0x1);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_to_json(&out, nullptr, err.out()));
  CHECK(out == reinterpret_cast<char *>(0x1));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_token_write_file(nullptr, "/tmp/x.json", err.out()));
  CHECK(std::string(momento_token_api_key(nullptr)).empty());
  CHECK(std::string(momento_token_refresh_token(nullptr)).empty());
  CHECK(std::string(momento_token_endpoint(nullptr)).empty());
  CHECK(momento_token_valid_until(nullptr) == 0);
  momento_token_free(nullptr);
  momento_token_t *made = reinterpret_cast<momento_token_t *>(0x1);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_new(nullptr, "k", "", 0, err.out()));
  for (const char *bad : {static_cast<const char *>(nullptr), "", kBadUtf8})
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_new(&made, bad, "", 0, err.out()));
  for (const char *bad : {static_cast<const char *>(nullptr), kBadUtf8})
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_new(&made, "k", bad, 0, err.out()));
  CHECK(made == reinterpret_cast<momento_token_t *>(0x1));
  // Secrets are not echoed in the error.
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_token_new(&made, "k", "secret-refresh\xff", 0, err.out()));
  CHECK(err.message().find("secret-refresh") == std::string::npos);
  Token plain;
  REQUIRE_OK(err, momento_token_new(plain.out(), "key", "", 0, err.out()));
  CHECK(std::string(momento_token_api_key(plain.get())) == "key");
  CHECK(std::string(momento_token_refresh_token(plain.get())).empty());
  CHECK(momento_token_valid_until(plain.get()) == 0);
}

namespace {

using TokenJson = Owned<momento_token_json_t, momento_token_json_free>;
const std::string kKey = "k3y-s3cr3t-value";
const std::string kRefresh = "r3fr3sh-s3cr3t-value";

// momento_token_json_render() of `text`'s shape with a key of its own, as parsed JSON.
nlohmann::ordered_json rendered(const std::string &text, uint64_t valid_until) {
  Err err;
  TokenJson json;
  Token read;
  REQUIRE_OK(err, momento_token_json_parse(json.out(), read.out(), text.c_str(), err.out()));
  CHECK(std::string(momento_token_api_key(read.get())) == kKey);
  // Another key in the same shape: text made from one token file, parsed for its token.
  const std::string fresh = R"({"authToken":"NEW","refreshToken":"NEWR","validUntil":)" +
                            std::to_string(valid_until) + "}";
  TokenJson ignored;
  Token next;
  REQUIRE_OK(err, momento_token_json_parse(ignored.out(), next.out(), fresh.c_str(), err.out()));
  char *out = nullptr;
  REQUIRE_OK(err, momento_token_json_render(&out, json.get(), next.get(), err.out()));
  std::string s(out);
  momento_free(out);
  return nlohmann::ordered_json::parse(s);
}

}  // namespace

TEST_CASE("token JSON: a secret's text is read and written back in its own shape",
          "[capi][token][json]") {
  Err err;
  // validUntil a string, a member of the user's own, the key under apiKey: all kept.
  nlohmann::ordered_json a = rendered(R"({"owner":"team-a","apiKey":")" + kKey + R"(","refreshToken":")" +
                                  kRefresh + R"(","validUntil":"1700000000"})",
                              1800000000);
  CHECK(a.dump() == R"({"owner":"team-a","apiKey":"NEW","refreshToken":"NEWR","validUntil":"1800000000"})");
  // validUntil a number stays a number; apiToken is a key member too.
  nlohmann::ordered_json b = rendered(R"({"apiToken":")" + kKey + R"(","refreshToken":")" + kRefresh +
                                  R"(","validUntil":1700000000,"n":[1,{"x":null}]})",
                              1800000000);
  CHECK(b.dump() == R"({"apiToken":"NEW","refreshToken":"NEWR","validUntil":1800000000,"n":[1,{"x":null}]})");
  // Trailing commas (hand edits) are read; commas inside strings are not touched.
  nlohmann::ordered_json c = rendered("{\"authToken\":\"" + kKey + "\", \"note\":\"a,}\",\n \"l\":[1,2,],\n}", 0);
  CHECK(c.dump() == R"({"authToken":"NEW","note":"a,}","l":[1,2],"refreshToken":"NEWR","validUntil":"0"})");

  // The values read, as the stores read them.
  TokenJson json;
  Token t;
  REQUIRE_OK(err, momento_token_json_parse(json.out(), t.out(),
                                           (R"({"authToken":")" + kKey + R"(","refreshToken":")" +
                                            kRefresh + R"(","validUntil":"1700000000",})")
                                               .c_str(),
                                           err.out()));
  CHECK(std::string(momento_token_refresh_token(t.get())) == kRefresh);
  CHECK(momento_token_valid_until(t.get()) == 1700000000u);
  // The same text as momento_token_to_json for the default shape's members.
  char *mine = nullptr, *plain = nullptr;
  REQUIRE_OK(err, momento_token_json_render(&mine, json.get(), t.get(), err.out()));
  REQUIRE_OK(err, momento_token_to_json(&plain, t.get(), err.out()));
  CHECK(std::string(mine) == plain);
  momento_free(mine);
  momento_free(plain);
}

TEST_CASE("token JSON: argument checks, and no error quotes the text", "[capi][token][json][validation]") {
  Err err;
  const std::string ok = R"({"authToken":")" + kKey + R"("})";
  momento_token_json_t *json = reinterpret_cast<momento_token_json_t *>(0x1);
  momento_token_t *token = reinterpret_cast<momento_token_t *>(0x1);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_parse(nullptr, &token, ok.c_str(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_parse(&json, nullptr, ok.c_str(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_parse(&json, &token, nullptr, err.out()));
  CHECK(err.message().find("text") != std::string::npos);
  for (const std::string &bad :
       {"{\"authToken\":\"" + kKey + "\"", "[\"" + kKey + "\"]", "{\"refreshToken\":\"" + kKey + "\"}",
        "{\"authToken\":\"" + kKey + "\",\"validUntil\":\"12x\"}", "{\"authToken\":\"" + kKey + "\",,}",
        "{\"authToken\":\"\xff" + kKey + "\"}", std::string("")}) {
    INFO(bad);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_parse(&json, &token, bad.c_str(), err.out()));
    CHECK(err.message().find(kKey) == std::string::npos);
    CHECK(err.message().find(kKey.substr(0, 8)) == std::string::npos);
  }
  CHECK(json == reinterpret_cast<momento_token_json_t *>(0x1));  // untouched on failure
  CHECK(token == reinterpret_cast<momento_token_t *>(0x1));

  TokenJson shape;
  Token t;
  REQUIRE_OK(err, momento_token_json_parse(shape.out(), t.out(), ok.c_str(), err.out()));
  char *out = reinterpret_cast<char *>(0x1);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_render(nullptr, shape.get(), t.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_render(&out, nullptr, t.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_token_json_render(&out, shape.get(), nullptr, err.out()));
  CHECK(out == reinterpret_cast<char *>(0x1));
  momento_token_json_free(nullptr);
}
