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
