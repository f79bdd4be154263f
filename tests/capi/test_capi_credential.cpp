// C ABI, credential module: overrides, constructors, accessors and argument validation.
#include <fstream>
#include <nlohmann/json.hpp>

#include "capi_test_util.hpp"

using namespace capi_test;

namespace {

nlohmann::json vector_by_id(const std::string &id) {
  std::ifstream in(std::string(MOMENTO_SPEC_DIR) + "/vectors.json");
  REQUIRE(in.good());
  nlohmann::json doc = nlohmann::json::parse(in);
  for (auto &v : doc["vectors"])
    if (v["id"] == id) return v;
  FAIL("vector " << id << " not found");
  return {};
}

struct Ep {
  std::string host;
  uint16_t port;
  int32_t secure;
};

Ep endpoint(const momento_credential_t *c, int32_t service) {
  Err err;
  const char *host = nullptr;
  uint16_t port = 0;
  int32_t secure = -1;
  REQUIRE_OK(err, momento_credential_endpoint(&host, &port, &secure, c, service, err.out()));
  REQUIRE(host != nullptr);
  return {host, port, secure};
}

void check_endpoints(const momento_credential_t *c, const nlohmann::json &eps) {
  uint16_t port = eps.value("port", 443);
  int32_t secure = eps.value("secure", true) ? 1 : 0;
  const char *names[] = {"control", "cache", "token"};
  for (int32_t s = MOMENTO_SERVICE_CONTROL; s <= MOMENTO_SERVICE_TOKEN; ++s) {
    Ep e = endpoint(c, s);
    CHECK(e.host == eps[names[s]].get<std::string>());
    CHECK(e.port == port);
    CHECK(e.secure == secure);
  }
}

}  // namespace

TEST_CASE("v1 envelope from the wire vectors parses with its endpoints", "[capi][credential]") {
  auto v = vector_by_id("cred-v1-envelope");
  std::string input = v["input"];
  Err err;
  Credential c;
  REQUIRE_OK(err, momento_credential_from_string(c.out(), input.c_str(), nullptr, err.out()));
  CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
  CHECK(std::string(momento_credential_kind_str(momento_credential_kind(c.get()))) ==
        "v1_envelope");
  CHECK(std::string(momento_credential_base_endpoint(c.get())) ==
        v["expected"]["endpoint"].get<std::string>());
  CHECK(momento_credential_endpoints_overridden(c.get()) == 0);
  check_endpoints(c.get(), v["expected"]["endpoints"]);

  // The redacted display never contains the raw key or the envelope.
  std::string red = momento_credential_redacted(c.get());
  std::string raw = v["expected"]["auth_token"];
  CHECK_FALSE(red.empty());
  CHECK(red.find(raw) == std::string::npos);
  CHECK(red.find(raw.substr(8, 24)) == std::string::npos);
  CHECK(red.find(input.substr(8, 24)) == std::string::npos);

  // Same string as a disposable token.
  Credential d;
  REQUIRE_OK(err, momento_credential_from_disposable_token(d.out(), input.c_str(), nullptr,
                                                           err.out()));
  CHECK(momento_credential_kind(d.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
}

TEST_CASE("legacy JWT endpoints and every override form", "[capi][credential]") {
  auto v = vector_by_id("cred-legacy-jwt");
  std::string input = v["input"];
  Err err;
  Credential c;
  REQUIRE_OK(err, momento_credential_from_string(c.out(), input.c_str(), nullptr, err.out()));
  CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_LEGACY_JWT);
  check_endpoints(c.get(), v["expected"]["endpoints"]);

  for (auto &w : v["expected"]["with_overrides"]) {
    auto &o = w["overrides"];
    if (!o.contains("base_endpoint")) continue;
    Override ov;
    std::string base = o["base_endpoint"];
    std::string prefix = o.value("endpoint_prefix", "");
    REQUIRE_OK(err, momento_endpoint_override_new_base(ov.out(), base.c_str(),
                                                   prefix.empty() ? nullptr : prefix.c_str(), 1,
                                                   err.out()));
    Credential oc;
    REQUIRE_OK(err, momento_credential_from_string(oc.out(), input.c_str(), ov.get(), err.out()));
    CHECK(momento_credential_endpoints_overridden(oc.get()) == 1);
    check_endpoints(oc.get(), w["endpoints"]);
  }

  SECTION("three explicit endpoints, plaintext") {
    Override ov;
    REQUIRE_OK(err, momento_endpoint_override_new_explicit(ov.out(), "ctl.example:1001",
                                                       "cache.example:1002", "tok.example", 0,
                                                       err.out()));
    Credential oc;
    REQUIRE_OK(err, momento_credential_from_string(oc.out(), input.c_str(), ov.get(), err.out()));
    Ep ctl = endpoint(oc.get(), MOMENTO_SERVICE_CONTROL);
    Ep cache = endpoint(oc.get(), MOMENTO_SERVICE_CACHE);
    Ep tok = endpoint(oc.get(), MOMENTO_SERVICE_TOKEN);
    CHECK(ctl.host == "ctl.example");
    CHECK(ctl.port == 1001);
    CHECK(ctl.secure == 0);
    CHECK(cache.port == 1002);
    CHECK(tok.host == "tok.example");
    CHECK(tok.port == 443);
  }
  SECTION("one host:port for everything") {
    Override ov;
    REQUIRE_OK(err, momento_endpoint_override_new_single(ov.out(), "127.0.0.1:9099", 0, err.out()));
    Credential oc;
    REQUIRE_OK(err, momento_credential_from_string(oc.out(), input.c_str(), ov.get(), err.out()));
    for (int32_t s = MOMENTO_SERVICE_CONTROL; s <= MOMENTO_SERVICE_TOKEN; ++s) {
      Ep e = endpoint(oc.get(), s);
      CHECK(e.host == "127.0.0.1");
      CHECK(e.port == 9099);
      CHECK(e.secure == 0);
    }
  }
}

TEST_CASE("v2 keys need the v2 entry point", "[capi][credential]") {
  auto v = vector_by_id("cred-v2-api-key");
  std::string key = v["input"];
  std::string endpoint_arg = v["expected"]["v2_path"]["endpoint_argument"];
  Err err;
  Credential c;
  REQUIRE_OK(err, momento_credential_from_v2(c.out(), key.c_str(), endpoint_arg.c_str(), nullptr,
                                             err.out()));
  CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V2_API_KEY);
  check_endpoints(c.get(), v["expected"]["v2_path"]["endpoints"]);

  Credential bad;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_from_string(bad.out(), key.c_str(), nullptr, err.out()));
  CHECK(bad.get() == nullptr);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_from_disposable_token(bad.out(), key.c_str(), nullptr,
                                                            err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_from_v2(bad.out(), key.c_str(), "", nullptr, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_from_v2(bad.out(), "", "e.example", nullptr, err.out()));
  auto env = vector_by_id("cred-v1-envelope");
  std::string v1 = env["input"];
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_from_v2(bad.out(), v1.c_str(), "e.example", nullptr,
                                              err.out()));
}

TEST_CASE("credential strings that must be rejected", "[capi][credential]") {
  Err err;
  Credential c;
  for (const char *id : {"cred-v1-missing-api-key", "cred-invalid-token-literal"}) {
    auto v = vector_by_id(id);
    std::string input = v["input"];
    INFO(id);
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_string(c.out(), input.c_str(), nullptr, err.out()));
    CHECK(err.grpc() == -1);
    CHECK_FALSE(err.retryable());
    // Messages never quote the credential.
    CHECK(err.message().find(input) == std::string::npos);
  }
}

TEST_CASE("environment and token-file credentials", "[capi][credential]") {
  auto v = vector_by_id("cred-v1-envelope");
  std::string input = v["input"];
  Err err;

  SECTION("named environment variables; unset is an error") {
    ::setenv("CAPI_TEST_KEY", (input + "\n").c_str(), 1);
    Credential c;
    REQUIRE_OK(err, momento_credential_from_env(c.out(), "CAPI_TEST_KEY", "CAPI_TEST_ENDPOINT_UNSET",
                                                nullptr, err.out()));
    CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
    ::unsetenv("CAPI_TEST_KEY");
    Credential none;
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_env(none.out(), "CAPI_TEST_KEY", nullptr, nullptr,
                                                 err.out()));
    CHECK(none.get() == nullptr);
  }
  SECTION("token file carries refresh token and expiry") {
    TempDir dir;
    std::string path = dir.file("token.json");
    {
      std::ofstream f(path);
      f << nlohmann::json{{"authToken", input}, {"refreshToken", "rt-secret-value"},
                          {"validUntil", "4102444800"}, {"other", 1}}
               .dump();
    }
    Credential c;
    REQUIRE_OK(err, momento_credential_from_file(c.out(), path.c_str(), nullptr, err.out()));
    CHECK(std::string(momento_credential_refresh_token(c.get())) == "rt-secret-value");
    int32_t state = -1;
    uint64_t epoch = 1;
    REQUIRE_OK(err, momento_credential_expiry(&state, &epoch, c.get(), err.out()));
    CHECK(state == MOMENTO_EXPIRY_AT);
    CHECK(epoch == 4102444800u);
    CHECK(std::string(momento_credential_redacted(c.get())).find("rt-secret") == std::string::npos);

    Credential missing;
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_file(missing.out(), dir.file("nope.json").c_str(),
                                                  nullptr, err.out()));
  }
  SECTION("a plain string has no known expiry") {
    Credential c;
    REQUIRE_OK(err, momento_credential_from_string(c.out(), input.c_str(), nullptr, err.out()));
    int32_t state = -1;
    uint64_t epoch = 1;
    REQUIRE_OK(err, momento_credential_expiry(&state, &epoch, c.get(), err.out()));
    // The inner key of this vector is a JWT with exp 4865515412; core may surface it.
    CHECK((state == MOMENTO_EXPIRY_UNKNOWN || state == MOMENTO_EXPIRY_AT));
    if (state == MOMENTO_EXPIRY_UNKNOWN) CHECK(epoch == 0);
    CHECK(std::string(momento_credential_refresh_token(c.get())).empty());
  }
}

TEST_CASE("a key in any format, as text or in a file, a v2 key's endpoint from the environment",
          "[capi][credential]") {
  const std::string v1 = vector_by_id("cred-v1-envelope")["input"];
  auto v2v = vector_by_id("cred-v2-api-key");
  const std::string v2 = v2v["input"];
  const std::string endpoint_arg = v2v["expected"]["v2_path"]["endpoint_argument"];
  TempDir dir;
  Err err;
  ::unsetenv("CAPI_TEST_V2_ENDPOINT");

  SECTION("text") {
    Credential c;
    REQUIRE_OK(err, momento_credential_from_key(c.out(), (v1 + "\n").c_str(), "CAPI_TEST_V2_ENDPOINT",
                                                nullptr, err.out()));
    CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
    // A v2 key without its endpoint variable: the error names the variable, not the key.
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_key(c.out(), v2.c_str(), "CAPI_TEST_V2_ENDPOINT",
                                                 nullptr, err.out()));
    CHECK(err.message().find("CAPI_TEST_V2_ENDPOINT") != std::string::npos);
    CHECK(err.message().find(v2.substr(0, 40)) == std::string::npos);
    ::setenv("CAPI_TEST_V2_ENDPOINT", endpoint_arg.c_str(), 1);
    REQUIRE_OK(err, momento_credential_from_key(c.out(), v2.c_str(), "CAPI_TEST_V2_ENDPOINT",
                                                nullptr, err.out()));
    CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V2_API_KEY);
    check_endpoints(c.get(), v2v["expected"]["v2_path"]["endpoints"]);
    ::unsetenv("CAPI_TEST_V2_ENDPOINT");
  }
  SECTION("a file holding the bare key or the Download-JSON shape") {
    const std::string bare = dir.file("bare.key");
    std::ofstream(bare) << v2 << "\n";
    Credential c;
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_key_file(c.out(), bare.c_str(), "CAPI_TEST_V2_ENDPOINT",
                                                      nullptr, err.out()));
    CHECK(err.message().find("CAPI_TEST_V2_ENDPOINT") != std::string::npos);
    ::setenv("CAPI_TEST_V2_ENDPOINT", endpoint_arg.c_str(), 1);
    REQUIRE_OK(err, momento_credential_from_key_file(c.out(), bare.c_str(), "CAPI_TEST_V2_ENDPOINT",
                                                     nullptr, err.out()));
    CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V2_API_KEY);
    ::unsetenv("CAPI_TEST_V2_ENDPOINT");

    const std::string json = dir.file("token.json");
    std::ofstream(json) << nlohmann::json{{"authToken", v1}, {"refreshToken", "rt-value"},
                                          {"validUntil", "4102444800"}}.dump();
    REQUIRE_OK(err, momento_credential_from_key_file(c.out(), json.c_str(), nullptr, nullptr,
                                                     err.out()));
    CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_V1_ENVELOPE);
    CHECK(std::string(momento_credential_refresh_token(c.get())) == "rt-value");

    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_key_file(c.out(), dir.file("none").c_str(), nullptr,
                                                      nullptr, err.out()));
    CHECK(err.message().find("missing") != std::string::npos);
    // A key given where the path belongs is not echoed.
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_key_file(c.out(), v1.c_str(), nullptr, nullptr,
                                                      err.out()));
    CHECK(err.message().find(v1.substr(0, 40)) == std::string::npos);
  }
  SECTION("argument checks") {
    momento_credential_t *out = reinterpret_cast<momento_credential_t *>(0x1);
    for (const char *bad : {static_cast<const char *>(nullptr), "", kBadUtf8}) {
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_key(&out, bad, nullptr, nullptr, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_key_file(&out, bad, nullptr, nullptr, err.out()));
      if (bad != nullptr) {  // NULL means the library's MOMENTO_ENDPOINT
        CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                         momento_credential_from_key(&out, v1.c_str(), bad, nullptr, err.out()));
        CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                         momento_credential_from_key_file(&out, "/x", bad, nullptr, err.out()));
      }
    }
    CHECK(out == reinterpret_cast<momento_credential_t *>(0x1));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_key(nullptr, v1.c_str(), nullptr, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_key_file(nullptr, "/x", nullptr, nullptr, err.out()));
  }
}

TEST_CASE("momento_redact_key shows a key as its credential does", "[capi][credential][secret]") {
  auto v = vector_by_id("cred-v1-envelope");
  const std::string input = v["input"];
  Err err;
  Credential c;
  REQUIRE_OK(err, momento_credential_from_string(c.out(), input.c_str(), nullptr, err.out()));
  char *shown = nullptr;
  // An envelope: the key inside it, as momento_credential_redacted_key shows it.
  REQUIRE_OK(err, momento_redact_key(&shown, input.c_str(), err.out()));
  CHECK(std::string(shown) == momento_credential_redacted_key(c.get()));
  momento_free(shown);
  // Text that is not a key: redacted as it is.
  char *plain = nullptr;
  REQUIRE_OK(err, momento_redact_key(&shown, "not-a-key-at-all", err.out()));
  REQUIRE_OK(err, momento_redact(&plain, "not-a-key-at-all", err.out()));
  CHECK(std::string(shown) == plain);
  momento_free(shown);
  momento_free(plain);
  char *untouched = reinterpret_cast<char *>(0x1);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_redact_key(nullptr, "x", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_redact_key(&untouched, nullptr, err.out()));
  CHECK(untouched == reinterpret_cast<char *>(0x1));
}

TEST_CASE("momento_wipe overwrites the caller's bytes", "[capi][secret]") {
  char buf[] = "secret-bytes";
  momento_wipe(buf, sizeof buf - 1);
  CHECK(std::string(buf, sizeof buf - 1) == std::string(sizeof buf - 1, '\0'));
  momento_wipe(nullptr, 5);  // does nothing
}

TEST_CASE("local credential defaults", "[capi][credential]") {
  Err err;
  Credential c;
  REQUIRE_OK(err, momento_credential_new_local(c.out(), nullptr, 0, err.out()));
  CHECK(momento_credential_kind(c.get()) == MOMENTO_CREDENTIAL_LOCAL);
  Ep e = endpoint(c.get(), MOMENTO_SERVICE_CACHE);
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 8080);
  CHECK(e.secure == 0);
  REQUIRE_OK(err, momento_credential_new_local(c.out(), "localhost", 9000, err.out()));
  CHECK(endpoint(c.get(), MOMENTO_SERVICE_TOKEN).port == 9000);
}

TEST_CASE("credential argument validation", "[capi][credential][validation]") {
  std::string v1 = vector_by_id("cred-v1-envelope")["input"];
  Err err;
  auto *sentinel = reinterpret_cast<momento_credential_t *>(0x1);
  momento_credential_t *out = sentinel;

  SECTION("NULL out-parameter") {
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_string(nullptr, v1.c_str(), nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_disposable_token(nullptr, v1.c_str(), nullptr,
                                                              err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_v2(nullptr, "k", "e", nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_env(nullptr, nullptr, nullptr, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_file(nullptr, "/x", nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_new_local(nullptr, nullptr, 0, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_base(nullptr, "b", nullptr, 1, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_explicit(nullptr, "a", "b", "c", 1, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_single(nullptr, "a:1", 0, err.out()));
  }
  SECTION("NULL, empty and non-UTF-8 strings leave the out-parameter untouched") {
    for (const char *bad : {static_cast<const char *>(nullptr), "", kBadUtf8}) {
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_string(&out, bad, nullptr, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_disposable_token(&out, bad, nullptr, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_v2(&out, bad, "e.example", nullptr, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_v2(&out, "k", bad, nullptr, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_from_file(&out, bad, nullptr, err.out()));
      if (bad != nullptr) {  // NULL means "default" for these
        CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                         momento_credential_from_env(&out, bad, nullptr, nullptr, err.out()));
        CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                         momento_credential_from_env(&out, "K", bad, nullptr, err.out()));
        CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                         momento_credential_new_local(&out, bad, 1, err.out()));
      }
      CHECK(out == sentinel);
      momento_endpoint_override_t *ov = reinterpret_cast<momento_endpoint_override_t *>(0x1);
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_endpoint_override_new_base(&ov, bad, nullptr, 1, err.out()));
      if (bad != nullptr)
        CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                         momento_endpoint_override_new_base(&ov, "b.example", bad, 1, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_endpoint_override_new_explicit(&ov, bad, "b", "c", 1, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_endpoint_override_new_explicit(&ov, "a", bad, "c", 1, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_endpoint_override_new_explicit(&ov, "a", "b", bad, 1, err.out()));
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_endpoint_override_new_single(&ov, bad, 0, err.out()));
      CHECK(ov == reinterpret_cast<momento_endpoint_override_t *>(0x1));
    }
  }
  SECTION("bad ports and secure flags are rejected when the override is made") {
    momento_endpoint_override_t *ov = nullptr;
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_single(&ov, "127.0.0.1:99999", 0, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_single(&ov, "127.0.0.1:1", 2, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_base(&ov, "b.example", nullptr, -1, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_endpoint_override_new_explicit(&ov, "a", "b", "c", 7, err.out()));
    CHECK(ov == nullptr);
  }
  SECTION("accessors on NULL and unknown enum values") {
    CHECK(momento_credential_kind(nullptr) == 0);
    CHECK(momento_credential_kind_str(0) == nullptr);
    CHECK(momento_credential_kind_str(6) == nullptr);
    CHECK(momento_credential_kind_str(-1) == nullptr);
    CHECK(std::string(momento_credential_base_endpoint(nullptr)).empty());
    CHECK(momento_credential_endpoints_overridden(nullptr) == 0);
    CHECK(std::string(momento_credential_redacted(nullptr)).empty());
    CHECK(std::string(momento_credential_refresh_token(nullptr)).empty());

    Credential c;
    REQUIRE_OK(err, momento_credential_from_string(c.out(), v1.c_str(), nullptr, err.out()));
    const char *host = "untouched";
    uint16_t port = 7;
    int32_t secure = 7;
    for (int32_t service : {-1, 3, 1000}) {
      CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                       momento_credential_endpoint(&host, &port, &secure, c.get(), service,
                                                   err.out()));
    }
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_endpoint(&host, &port, &secure, nullptr, 0, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_endpoint(nullptr, &port, &secure, c.get(), 0, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_endpoint(&host, nullptr, &secure, c.get(), 0, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_endpoint(&host, &port, nullptr, c.get(), 0, err.out()));
    CHECK(std::string(host) == "untouched");
    CHECK(port == 7);
    CHECK(secure == 7);

    int32_t state = 9;
    uint64_t epoch = 9;
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_expiry(&state, &epoch, nullptr, err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_expiry(nullptr, &epoch, c.get(), err.out()));
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_expiry(&state, nullptr, c.get(), err.out()));
    CHECK(state == 9);
    CHECK(epoch == 9);
  }
  SECTION("oversized input is refused before parsing") {
    std::string huge(64 * 1024, 'A');
    CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                     momento_credential_from_string(&out, huge.c_str(), nullptr, err.out()));
    CHECK(err.message().find(huge.substr(0, 64)) == std::string::npos);
    CHECK(out == sentinel);
  }
  SECTION("err may be NULL; free functions accept NULL") {
    CHECK(momento_credential_from_string(&out, "", nullptr, nullptr) ==
          MOMENTO_ERR_INVALID_ARGUMENT);
    CHECK(out == sentinel);
    momento_credential_free(nullptr);
    momento_endpoint_override_free(nullptr);
  }
}

TEST_CASE("redacted key, redact and with_override", "[capi][credential]") {
  auto v = vector_by_id("cred-v1-envelope");
  std::string input = v["input"];
  std::string raw = v["expected"]["auth_token"];
  Err err;
  Credential c;
  REQUIRE_OK(err, momento_credential_from_string(c.out(), input.c_str(), nullptr, err.out()));

  // The key alone, redacted: what momento_redact gives for the raw key, never the key itself.
  std::string red = momento_credential_redacted_key(c.get());
  CHECK(red.find(raw) == std::string::npos);
  CHECK(red.find(raw.substr(4, 16)) == std::string::npos);
  CHECK(red.rfind(raw.substr(0, 4), 0) == 0);
  char *direct = nullptr;
  REQUIRE_OK(err, momento_redact(&direct, raw.c_str(), err.out()));
  CHECK(red == direct);
  momento_free(direct);
  // The full display contains the redacted key.
  CHECK(std::string(momento_credential_redacted(c.get())).find(red) != std::string::npos);
  CHECK(std::string(momento_credential_redacted_key(nullptr)).empty());
  Credential local;
  REQUIRE_OK(err, momento_credential_new_local(local.out(), nullptr, 0, err.out()));
  CHECK(std::string(momento_credential_redacted_key(local.get())) == "<empty>");

  // momento_redact: different secrets give different forms; arguments validated.
  char *a = nullptr, *b = nullptr;
  REQUIRE_OK(err, momento_redact(&a, "secret-number-one", err.out()));
  REQUIRE_OK(err, momento_redact(&b, "secret-number-two", err.out()));
  CHECK(std::string(a) != std::string(b));
  CHECK(std::string(a).find("number") == std::string::npos);
  momento_free(a);
  momento_free(b);
  char *untouched = reinterpret_cast<char *>(0x1);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_redact(nullptr, "x", err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_redact(&untouched, nullptr, err.out()));
  CHECK(err.message().find("secret") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_redact(&untouched, kBadUtf8, err.out()));
  CHECK(untouched == reinterpret_cast<char *>(0x1));

  // momento_printable: the library's escaping of text for a terminal, bytes in (NUL included).
  const std::string raw_text("a\\b\n\x1b[2J\0\xC3\xA9\xFF", 12);
  char *shown = nullptr;
  REQUIRE_OK(err, momento_printable(&shown, raw_text.data(), raw_text.size(), 256, err.out()));
  CHECK(std::string(shown) == "a\\\\b\\n\\e[2J\\x00\xC3\xA9\\xFF");
  momento_free(shown);
  REQUIRE_OK(err, momento_printable(&shown, "abcdef", 6, 3, err.out()));
  CHECK(std::string(shown) == "abc...");
  momento_free(shown);
  REQUIRE_OK(err, momento_printable(&shown, nullptr, 0, 10, err.out()));
  CHECK(std::string(shown).empty());
  momento_free(shown);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_printable(&untouched, nullptr, 1, 10, err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err, momento_printable(nullptr, "x", 1, 10, err.out()));
  CHECK(untouched == reinterpret_cast<char *>(0x1));

  // with_override: same key, new endpoints; the original is unchanged.
  Override plain;
  REQUIRE_OK(err, momento_endpoint_override_new_base(
                      plain.out(), momento_credential_base_endpoint(c.get()), nullptr, 0,
                      err.out()));
  Credential p;
  REQUIRE_OK(err, momento_credential_with_override(p.out(), c.get(), plain.get(), err.out()));
  CHECK(momento_credential_endpoints_overridden(p.get()) == 1);
  CHECK(momento_credential_endpoints_overridden(c.get()) == 0);
  CHECK(endpoint(p.get(), MOMENTO_SERVICE_CONTROL).secure == 0);
  CHECK(endpoint(p.get(), MOMENTO_SERVICE_CONTROL).host ==
        endpoint(c.get(), MOMENTO_SERVICE_CONTROL).host);
  CHECK(endpoint(c.get(), MOMENTO_SERVICE_CONTROL).secure == 1);
  CHECK(std::string(momento_credential_redacted_key(p.get())) == red);
  Override single;
  REQUIRE_OK(err, momento_endpoint_override_new_single(single.out(), "127.0.0.1:7777", 0, err.out()));
  Credential s;
  REQUIRE_OK(err, momento_credential_with_override(s.out(), c.get(), single.get(), err.out()));
  CHECK(endpoint(s.get(), MOMENTO_SERVICE_CACHE).port == 7777);

  Credential none;
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_with_override(nullptr, c.get(), single.get(), err.out()));
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_with_override(none.out(), nullptr, single.get(), err.out()));
  CHECK(err.message().find("credential") != std::string::npos);
  CHECK_FAILS_WITH(MOMENTO_ERR_INVALID_ARGUMENT, err,
                   momento_credential_with_override(none.out(), c.get(), nullptr, err.out()));
  CHECK(err.message().find("override") != std::string::npos);
  CHECK(none.get() == nullptr);
}
