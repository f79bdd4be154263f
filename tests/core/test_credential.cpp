// Credential parsing: envelope variants, negative cases, endpoints, overrides, sources.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "core_test_util.hpp"
#include "momento/auth/credential.hpp"
#include "util/encoding.hpp"
#include "util/jwt.hpp"

using namespace momento::auth;
using core_test::contains;
using core_test::expect_invalid;

namespace {

const std::string kInnerKey = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlLWJ5dGVz";

std::string b64(const std::string& s) { return detail::base64_encode(s); }
std::string b64url_unpadded(const std::string& s) { return detail::base64url_encode(s); }

std::string make_jwt(const std::string& payload_json,
                     const std::string& header_json = R"({"alg":"HS256","typ":"JWT"})") {
  return detail::base64url_encode(header_json) + "." + detail::base64url_encode(payload_json) +
         ".c2lnbmF0dXJl";
}

const std::string kV2Key = make_jwt(R"({"t":"g","jti":"abc-123"})");
const std::string kLegacy = make_jwt(R"({"sub":"me","cp":"control.example.net","c":"cache.example.net"})");
const std::string kSession = make_jwt(R"({"sub":"auth0|someone","exp":4102444800})");

// Sets an environment variable for the scope of one test.
struct EnvVar {
  std::string name;
  EnvVar(std::string n, const char* value) : name(std::move(n)) {
    if (value) ::setenv(name.c_str(), value, 1); else ::unsetenv(name.c_str());
  }
  ~EnvVar() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("envelope byte-level variants all decode to the same credential", "[credential]") {
  const std::string compact = R"({"endpoint":"test.momentohq.com","api_key":")" + kInnerKey + R"("})";
  const Credential ref = Credential::from_string(b64(compact));
  REQUIRE(ref.kind() == CredentialKind::V1Envelope);
  REQUIRE(ref.raw_key() == kInnerKey);
  REQUIRE(ref.base_endpoint() == "test.momentohq.com");

  std::vector<std::pair<std::string, std::string>> variants = {
      {"key order api_key first", b64(R"({"api_key":")" + kInnerKey + R"(","endpoint":"test.momentohq.com"})")},
      {"spaces after : and ,", b64(R"({"endpoint": "test.momentohq.com", "api_key": ")" + kInnerKey + R"("})")},
      {"trailing newline in JSON", b64(compact + "\n")},
      {"leading JSON whitespace", b64("\r\n\t " + compact)},
      {"unknown members ignored", b64(R"({"x":1,"endpoint":"test.momentohq.com","nested":{"a":[1]},"api_key":")" + kInnerKey + R"("})")},
      {"url-safe unpadded", b64url_unpadded(compact)},
      {"standard unpadded", [&] { auto s = b64(compact); while (s.back() == '=') s.pop_back(); return s; }()},
      {"surrounding whitespace and newline", "  \t" + b64(compact) + "\r\n"},
  };
  for (const auto& [label, text] : variants) {
    DYNAMIC_SECTION(label) {
      Credential c = Credential::from_string(text);
      CHECK(c.kind() == CredentialKind::V1Envelope);
      CHECK(c.raw_key() == ref.raw_key());
      CHECK(c.base_endpoint() == ref.base_endpoint());
      CHECK(c.endpoints() == ref.endpoints());
      CHECK(c.original() == std::string(detail::trim_ascii_whitespace(text)));
    }
  }
}

TEST_CASE("url-safe alphabet with padding is accepted", "[credential]") {
  // Find an envelope whose standard encoding contains '+' or '/', so the URL-safe form differs.
  std::string text, json;
  for (int i = 0; i < 64 && text.empty(); ++i) {
    json = R"({"endpoint":"e.example","api_key":"k?>)" + std::string(static_cast<size_t>(i), '~') + R"("})";
    std::string s = b64(json);
    if (s.find_first_of("+/") != std::string::npos) text = s;
  }
  REQUIRE_FALSE(text.empty());
  std::string url = text;
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  Credential a = Credential::from_string(text);
  Credential b = Credential::from_string(url);
  CHECK(a.raw_key() == b.raw_key());
  // Mixing the alphabets is not base64 and then not a JWT either.
  std::string mixed = text;
  size_t std_pos = mixed.find_first_of("+/");
  REQUIRE(std_pos != std::string::npos);
  // Replace an alphanumeric char elsewhere with '-' to mix alphabets.
  size_t other = mixed.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ", std_pos == 0 ? 1 : 0);
  mixed[other] = '-';
  CHECK_FALSE(detail::is_strict_base64(mixed));
  expect_invalid([&] { Credential::from_string(mixed); });
}

TEST_CASE("strict base64 rules of docs/wire.md 4.4", "[credential][base64]") {
  CHECK(detail::is_strict_base64("QUJD"));
  CHECK(detail::is_strict_base64("QUI="));
  CHECK(detail::is_strict_base64("QQ=="));
  CHECK(detail::is_strict_base64("QUI"));    // unpadded, len % 4 == 3
  CHECK(detail::is_strict_base64("QQ"));     // unpadded, len % 4 == 2
  CHECK_FALSE(detail::is_strict_base64(""));
  CHECK_FALSE(detail::is_strict_base64("Q"));       // len % 4 == 1
  CHECK_FALSE(detail::is_strict_base64("QUJDR"));   // len % 4 == 1
  CHECK_FALSE(detail::is_strict_base64("Q==="));    // three '='
  CHECK_FALSE(detail::is_strict_base64("QQ="));     // padded but length not a multiple of 4
  CHECK_FALSE(detail::is_strict_base64("Q=Q="));    // '=' inside
  CHECK_FALSE(detail::is_strict_base64("QU JD"));   // inner space
  CHECK_FALSE(detail::is_strict_base64("a+b_"));    // mixed alphabets
  CHECK_FALSE(detail::is_strict_base64("a/b-"));
  CHECK_FALSE(detail::is_strict_base64("ab.c"));
  CHECK(detail::is_strict_base64("a+b/"));
  CHECK(detail::is_strict_base64("a-b_"));
  CHECK(*detail::base64_decode("QUJD") == "ABC");
  CHECK(*detail::base64_decode("QUI=") == "AB");
  CHECK(*detail::base64_decode("QUI") == "AB");
  CHECK(*detail::base64_decode("QQ==") == "A");
  CHECK(*detail::base64_decode("-_-_") == *detail::base64_decode("+/+/"));
  CHECK(detail::base64_encode("AB") == "QUI=");
  CHECK(detail::base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("parser negative cases", "[credential][negative]") {
  const std::string secret_key = "sup3r-s3cret-inner-key-value";
  SECTION("empty and whitespace only") {
    CHECK(contains(expect_invalid([] { Credential::from_string(""); }), "empty"));
    CHECK(contains(expect_invalid([] { Credential::from_string(" \t\r\n "); }), "empty"));
    CHECK(contains(expect_invalid([] { Credential::from_disposable_token("\n"); }), "empty"));
  }
  SECTION("literal 'Invalid token'") {
    CHECK(contains(expect_invalid([] { Credential::from_string("Invalid token"); }), "could not parse token"));
  }
  SECTION("base64 of text that is not JSON") {
    std::string s = b64url_unpadded("this is plain text, not JSON at all " + secret_key);
    std::string m = expect_invalid([&] { Credential::from_string(s); }, secret_key);
    CHECK(contains(m, "failed to parse token"));
    CHECK(contains(m, "not JSON"));
  }
  SECTION("JSON that is not an object") {
    for (std::string j : {"[1,2,3]", R"("just a string")", "42", "null"}) {
      std::string m = expect_invalid([&] { Credential::from_string(b64(j)); });
      CHECK(contains(m, "not an object"));
    }
  }
  SECTION("missing, empty and non-string members") {
    struct Case { std::string json; std::string word; };
    std::vector<Case> cases = {
        {R"({"endpoint":"a.b.com"})", "api_key"},
        {R"({"api_key":")" + secret_key + R"("})", "endpoint"},
        {R"({"endpoint":"","api_key":")" + secret_key + R"("})", "endpoint"},
        {R"({"endpoint":"a.b.com","api_key":""})", "api_key"},
        {R"({"endpoint":7,"api_key":")" + secret_key + R"("})", "endpoint"},
        {R"({"endpoint":"a.b.com","api_key":["x"]})", "api_key"},
        {R"({"endpoint":null,"api_key":")" + secret_key + R"("})", "endpoint"},
        {R"({"endpoint":"a.b.com","api_key":false})", "api_key"},
    };
    for (const auto& c : cases) {
      INFO(c.json);
      std::string m = expect_invalid([&] { Credential::from_string(b64(c.json)); }, secret_key);
      CHECK(contains(m, "failed to parse token"));
      CHECK(contains(m, c.word));
    }
  }
  SECTION("envelope with an unusable endpoint") {
    std::string j = R"({"endpoint":"bad host name","api_key":")" + secret_key + R"("})";
    expect_invalid([&] { Credential::from_string(b64(j)); }, secret_key);
  }
  SECTION("bad padding and mixed alphabets are not base64, then not a JWT") {
    std::string env = b64(R"({"endpoint":"a.b.com","api_key":"k"})");
    expect_invalid([&] { Credential::from_string(env + "="); });      // too much padding
    expect_invalid([&] { Credential::from_string(env + "A"); });      // data after padding
    expect_invalid([&] { Credential::from_string("QQ="); });
  }
  SECTION("base64 that decodes to invalid UTF-8") {
    std::string m = expect_invalid([&] { Credential::from_string(b64("{\"endpoint\":\"\xff\"}")); });
    CHECK(contains(m, "failed to parse token"));
  }
  SECTION("v2 key on the legacy path and disposable path") {
    CHECK(contains(expect_invalid([] { Credential::from_string(kV2Key); }, kV2Key), "v2"));
    CHECK(contains(expect_invalid([] { Credential::from_disposable_token(kV2Key); }, kV2Key), "v2"));
  }
  SECTION("non-v2 strings on the v2 path") {
    std::string env = encode_envelope("a.b.com", secret_key);
    CHECK(contains(expect_invalid([&] { Credential::from_v2(env, "a.b.com"); }, secret_key), "v2"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2(kLegacy, "a.b.com"); }, kLegacy), "v2"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2(kSession, "a.b.com"); }, kSession), "v2"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2("Invalid token", "a.b.com"); }), "v2"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2("", "a.b.com"); }), "API key cannot be an empty string"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2(" \n", "a.b.com"); }), "API key cannot be an empty string"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2(kV2Key, ""); }, kV2Key), "Endpoint cannot be an empty string"));
  }
  SECTION("oversized input") {
    std::string big(kMaxCredentialLength + 1, 'A');
    CHECK(contains(expect_invalid([&] { Credential::from_string(big); }), "too long"));
    CHECK(contains(expect_invalid([&] { Credential::from_v2(big, "a.b"); }), "too long"));
    // Exactly the limit passes the size check (and then fails as garbage base64).
    std::string at_limit(kMaxCredentialLength, 'A');
    CHECK_FALSE(contains(expect_invalid([&] { Credential::from_string(at_limit); }), "too long"));
  }
  SECTION("non-UTF-8 input") {
    for (std::string bad : {std::string("abc\xff"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                            std::string("ab\xe2\x82")}) {
      CHECK(contains(expect_invalid([&] { Credential::from_string(bad); }), "UTF-8"));
    }
    CHECK(detail::is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x94\x91"));
  }
  SECTION("session token (JWT without cp/c) needs an override") {
    CHECK(contains(expect_invalid([] { Credential::from_string(kSession); }, kSession),
                   "unable to determine control endpoint"));
    // Only one of cp/c is not enough either.
    std::string half = make_jwt(R"({"cp":"control.example.net"})");
    CHECK(contains(expect_invalid([&] { Credential::from_string(half); }, half),
                   "unable to determine control endpoint"));
    std::string empty_c = make_jwt(R"({"cp":"control.example.net","c":""})");
    CHECK(contains(expect_invalid([&] { Credential::from_string(empty_c); }, empty_c),
                   "unable to determine control endpoint"));
  }
  SECTION("JWT-looking strings that are not JWTs") {
    expect_invalid([] { Credential::from_string("a.b"); });
    expect_invalid([] { Credential::from_string("a.b.c.d"); });
    expect_invalid([&] { Credential::from_string(detail::base64url_encode("not json") + "." +
                                                 detail::base64url_encode("{}") + ".sig"); });
    expect_invalid([&] { Credential::from_string(detail::base64url_encode("{}") + "." +
                                                 detail::base64url_encode("[1]") + ".sig"); });
  }
}

TEST_CASE("legacy JWTs and session tokens", "[credential]") {
  Credential c = Credential::from_string(kLegacy);
  CHECK(c.kind() == CredentialKind::LegacyJwt);
  CHECK(c.raw_key() == kLegacy);
  CHECK(c.base_endpoint().empty());
  CHECK(c.endpoints().control == Endpoint{"control.example.net", 443, true});
  CHECK(c.endpoints().cache == Endpoint{"cache.example.net", 443, true});
  CHECK(c.endpoints().token == Endpoint{"cache.example.net", 443, true});
  CHECK_FALSE(c.expires_at().has_value());

  // JWT payload followed by a newline (like the public fixture) is accepted.
  std::string nl = make_jwt("{\"cp\":\"cp.x\",\"c\":\"c.x\"}\n");
  CHECK(Credential::from_string(nl).endpoints().control.host == "cp.x");

  Credential s = Credential::from_string(kSession, ExplicitEndpointsOverride{"a:1", "b:2", "c:3", false});
  CHECK(s.kind() == CredentialKind::SessionToken);
  CHECK(s.raw_key() == kSession);
  CHECK(s.endpoints_overridden());
  CHECK(s.endpoints().control == Endpoint{"a", 1, false});
  CHECK(s.endpoints().cache == Endpoint{"b", 2, false});
  CHECK(s.endpoints().token == Endpoint{"c", 3, false});
  REQUIRE(s.expires_at().has_value());
  CHECK(s.expires_at()->epoch() == 4102444800u);

  Credential sb = Credential::from_string(kSession, BaseEndpointOverride{"base.foo", "", true});
  CHECK(sb.endpoints().control.host == "control.base.foo");
}

TEST_CASE("expiry from JWT exp claims (informational)", "[credential][expiry]") {
  // The inner key of an envelope with exp.
  std::string inner = make_jwt(R"({"sub":"x","exp":1900000000})");
  Credential c = Credential::from_string(encode_envelope("e.example", inner));
  REQUIRE(c.expires_at().has_value());
  CHECK(c.expires_at()->epoch() == 1900000000u);
  // Opaque inner key without JWT shape: unknown expiry.
  CHECK_FALSE(Credential::from_string(encode_envelope("e.example", "opaque-key")).expires_at());
  // Non-numeric exp is ignored.
  CHECK_FALSE(Credential::from_string(encode_envelope("e.example", make_jwt(R"({"exp":"soon"})"))).expires_at());
  // v2 keys with exp.
  std::string v2exp = make_jwt(R"({"t":"g","exp":2000000000})");
  CHECK(Credential::from_v2(v2exp, "e.example").expires_at()->epoch() == 2000000000u);
  CHECK_FALSE(Credential::from_v2(kV2Key, "e.example").expires_at());
}

TEST_CASE("endpoint strings", "[credential][endpoint]") {
  CHECK(parse_endpoint("example.com", true) == Endpoint{"example.com", 443, true});
  CHECK(parse_endpoint("example.com:8443", false) == Endpoint{"example.com", 8443, false});
  CHECK(parse_endpoint("127.0.0.1:8080", false).address() == "127.0.0.1:8080");
  CHECK(parse_endpoint("[::1]:9000", false) == Endpoint{"[::1]", 9000, false});
  CHECK(parse_endpoint("[::1]", true).port == 443);
  for (std::string bad : {"", ":443", "host:", "host:0", "host:65536", "host:12a", "host:-1",
                          "https://host", "a b", "host/path", "::1", "[::1", "[]:1", "h:1:2"}) {
    INFO("'" << bad << "'");
    expect_invalid([&] { parse_endpoint(bad, true); });
  }
}

TEST_CASE("endpoint derivation and overrides (docs/wire.md 5.3)", "[credential][endpoint]") {
  Endpoints d = derive_endpoints("test.momentohq.com");
  CHECK(d.control == Endpoint{"control.test.momentohq.com", 443, true});
  CHECK(d.cache == Endpoint{"cache.test.momentohq.com", 443, true});
  CHECK(d.token == Endpoint{"token.test.momentohq.com", 443, true});

  Endpoints p = derive_endpoints("foo", "prefix");
  CHECK(p.control.host == "prefix.control.foo");
  CHECK(p.cache.host == "prefix.cache.foo");
  CHECK(p.token.host == "prefix.token.foo");

  Endpoints withport = derive_endpoints("localhost:9443", "", false);
  CHECK(withport.control == Endpoint{"control.localhost", 9443, false});

  expect_invalid([] { derive_endpoints(""); });
  expect_invalid([] { derive_endpoints("  "); });
  expect_invalid([] { derive_endpoints("foo", " "); });

  Endpoints b = resolve_override(BaseEndpointOverride{"base.foo", "", true});
  CHECK(b.control.host == "control.base.foo");
  CHECK(b.token.host == "token.base.foo");
  Endpoints bi = resolve_override(BaseEndpointOverride{"base.foo", "", false});
  CHECK_FALSE(bi.cache.secure);

  Endpoints x = resolve_override(ExplicitEndpointsOverride{"ctl.x", "cch.x:1234", "tok.x", true});
  CHECK(x.control == Endpoint{"ctl.x", 443, true});
  CHECK(x.cache == Endpoint{"cch.x", 1234, true});
  CHECK(x.token == Endpoint{"tok.x", 443, true});
  CHECK(contains(expect_invalid([] { resolve_override(ExplicitEndpointsOverride{"a", "", "c", true}); }), "cache"));
  CHECK(contains(expect_invalid([] { resolve_override(ExplicitEndpointsOverride{"", "b", "c", true}); }), "control"));
  CHECK(contains(expect_invalid([] { resolve_override(ExplicitEndpointsOverride{"a", "b", "", true}); }), "token"));

  Endpoints s = resolve_override(SingleEndpointOverride{"127.0.0.1:8080", false});
  for (const Endpoint* e : {&s.control, &s.cache, &s.token}) {
    CHECK(*e == Endpoint{"127.0.0.1", 8080, false});
  }
  Endpoints st = resolve_override(SingleEndpointOverride{"127.0.0.1:8080", true});
  CHECK(st.token.secure);
  expect_invalid([] { resolve_override(SingleEndpointOverride{"", false}); });

  // An override replaces the derived endpoints but keeps the raw key and base endpoint.
  Credential c = Credential::from_string(encode_envelope("test.momentohq.com", kInnerKey),
                                         SingleEndpointOverride{"127.0.0.1:5555", false});
  CHECK(c.raw_key() == kInnerKey);
  CHECK(c.base_endpoint() == "test.momentohq.com");
  CHECK(c.endpoints_overridden());
  CHECK(c.endpoints().cache == Endpoint{"127.0.0.1", 5555, false});
  // with_override leaves the original untouched.
  Credential plain = Credential::from_string(encode_envelope("test.momentohq.com", kInnerKey));
  Credential moved = plain.with_override(BaseEndpointOverride{"other.net", "", true});
  CHECK_FALSE(plain.endpoints_overridden());
  CHECK(plain.endpoints().control.host == "control.test.momentohq.com");
  CHECK(moved.endpoints().control.host == "control.other.net");
  CHECK(moved.raw_key() == plain.raw_key());
}

TEST_CASE("v2 keys", "[credential]") {
  Credential c = Credential::from_v2("  " + kV2Key + "\n", "cell.example.com");
  CHECK(c.kind() == CredentialKind::V2ApiKey);
  CHECK(c.raw_key() == kV2Key);
  CHECK(c.base_endpoint() == "cell.example.com");
  CHECK_FALSE(c.endpoints_overridden());
  CHECK(c.endpoints().token.host == "token.cell.example.com");
  Credential o = Credential::from_v2(kV2Key, "cell.example.com", SingleEndpointOverride{"127.0.0.1:1", false});
  CHECK(o.endpoints_overridden());
  CHECK(o.endpoints().control == Endpoint{"127.0.0.1", 1, false});
  // t must be exactly the string "g".
  expect_invalid([] { Credential::from_v2(make_jwt(R"({"t":"G"})"), "e"); });
  expect_invalid([] { Credential::from_v2(make_jwt(R"({"t":1})"), "e"); });
}

TEST_CASE("local credential", "[credential]") {
  Credential c = Credential::local();
  CHECK(c.kind() == CredentialKind::Local);
  CHECK(c.raw_key().empty());
  CHECK(c.endpoints().control == Endpoint{"127.0.0.1", 8080, false});
  CHECK(c.endpoints().cache == c.endpoints().control);
  CHECK(c.endpoints().token == c.endpoints().control);
  CHECK(Credential::local("localhost", 9001).endpoints().token.address() == "localhost:9001");
  expect_invalid([] { Credential::local("", 1); });
  expect_invalid([] { Credential::local("h", 0); });
  CHECK(contains(c.redacted(), "local"));
  CHECK(contains(c.redacted(), "<empty>"));
}

TEST_CASE("credential kind names", "[credential]") {
  CHECK(std::string(credential_kind_name(CredentialKind::V1Envelope)) == "v1_envelope");
  CHECK(std::string(credential_kind_name(CredentialKind::V2ApiKey)) == "v2_api_key");
  CHECK(std::string(credential_kind_name(CredentialKind::LegacyJwt)) == "legacy_jwt");
  CHECK(std::string(credential_kind_name(CredentialKind::SessionToken)) == "session_token");
  CHECK(std::string(credential_kind_name(CredentialKind::Local)) == "local");
}

TEST_CASE("encode_envelope: compact, endpoint first, RFC 8259 escaping", "[credential][envelope]") {
  auto decoded = [](const std::string& env) { return *detail::base64_decode(env); };
  CHECK(decoded(encode_envelope("a.b", "k")) == R"({"endpoint":"a.b","api_key":"k"})");
  // '/' is not escaped; quotes, backslashes and control characters are.
  CHECK(decoded(encode_envelope("a.b", "x/y\"z\\w\n\t\x01")) ==
        "{\"endpoint\":\"a.b\",\"api_key\":\"x/y\\\"z\\\\w\\n\\t\\u0001\"}");
  // Non-ASCII is kept as UTF-8.
  CHECK(decoded(encode_envelope("a.b", "caf\xc3\xa9")) == "{\"endpoint\":\"a.b\",\"api_key\":\"caf\xc3\xa9\"}");
  // Standard alphabet with padding.
  std::string env = encode_envelope("a.b", "k");
  CHECK(env.size() % 4 == 0);
  CHECK(env.find_first_of("-_") == std::string::npos);
  // Round trip through the parser.
  std::string key = "weird \"key\" with / and \\";
  Credential c = Credential::from_string(encode_envelope("e.example", key));
  CHECK(c.raw_key() == key);
  expect_invalid([] { encode_envelope("", "k"); });
  expect_invalid([] { encode_envelope("e", ""); });
  expect_invalid([] { encode_envelope("e", "\xff"); });
}

TEST_CASE("encode_envelope escapes every ASCII character as nlohmann::json's dump() does",
          "[credential][envelope]") {
  std::string key = "k\xc3\xa9/";
  for (int c = 0; c < 0x80; ++c) key += static_cast<char>(c);
  const nlohmann::ordered_json j = {{"endpoint", "a\"b"}, {"api_key", key}};
  CHECK(*detail::base64_decode(encode_envelope("a\"b", key)) == j.dump());
}

TEST_CASE("from_environment", "[credential][env]") {
  const char* kKeyVar = "MOMENTO_TEST_CORE_KEY";
  const char* kEpVar = "MOMENTO_TEST_CORE_ENDPOINT";
  SECTION("unset key variable names the variable") {
    EnvVar k(kKeyVar, nullptr);
    std::string m = expect_invalid([&] { Credential::from_environment(std::nullopt, kKeyVar, kEpVar); });
    CHECK(contains(m, std::string("environment variable ") + kKeyVar + " must be set"));
  }
  SECTION("default variable name in the message") {
    const char* saved = std::getenv("MOMENTO_API_KEY");
    std::string keep = saved ? saved : "";
    ::unsetenv("MOMENTO_API_KEY");
    std::string m = expect_invalid([] { Credential::from_environment(); });
    CHECK(contains(m, "environment variable MOMENTO_API_KEY must be set"));
    if (saved) ::setenv("MOMENTO_API_KEY", keep.c_str(), 1);
  }
  SECTION("empty key is treated as an empty string") {
    EnvVar k(kKeyVar, "");
    CHECK(contains(expect_invalid([&] { Credential::from_environment(std::nullopt, kKeyVar, kEpVar); }), "empty"));
  }
  SECTION("v1 envelope with trailing newline") {
    std::string env = encode_envelope("test.momentohq.com", kInnerKey) + "\n";
    EnvVar k(kKeyVar, env.c_str());
    EnvVar e(kEpVar, "ignored.example");
    Credential c = Credential::from_environment(std::nullopt, kKeyVar, kEpVar);
    CHECK(c.kind() == CredentialKind::V1Envelope);
    CHECK(c.raw_key() == kInnerKey);
    CHECK(c.endpoints().control.host == "control.test.momentohq.com");
  }
  SECTION("v2 key plus endpoint variable") {
    EnvVar k(kKeyVar, kV2Key.c_str());
    EnvVar e(kEpVar, "cell.example");
    Credential c = Credential::from_environment(std::nullopt, kKeyVar, kEpVar);
    CHECK(c.kind() == CredentialKind::V2ApiKey);
    CHECK(c.endpoints().cache.host == "cache.cell.example");
    Credential o = Credential::from_environment(SingleEndpointOverride{"127.0.0.1:7", false}, kKeyVar, kEpVar);
    CHECK(o.endpoints().cache == Endpoint{"127.0.0.1", 7, false});
  }
  SECTION("v2 key without the endpoint variable") {
    EnvVar k(kKeyVar, kV2Key.c_str());
    EnvVar e(kEpVar, nullptr);
    std::string m = expect_invalid([&] { Credential::from_environment(std::nullopt, kKeyVar, kEpVar); }, kV2Key);
    CHECK(contains(m, kEpVar));
  }
  SECTION("v2 key with an empty endpoint variable") {
    EnvVar k(kKeyVar, kV2Key.c_str());
    EnvVar e(kEpVar, "");
    CHECK(contains(expect_invalid([&] { Credential::from_environment(std::nullopt, kKeyVar, kEpVar); }, kV2Key),
                   "Endpoint cannot be an empty string"));
  }
  SECTION("legacy JWT ignores the endpoint variable") {
    EnvVar k(kKeyVar, kLegacy.c_str());
    EnvVar e(kEpVar, "cell.example");
    Credential c = Credential::from_environment(std::nullopt, kKeyVar, kEpVar);
    CHECK(c.kind() == CredentialKind::LegacyJwt);
    CHECK(c.endpoints().control.host == "control.example.net");
  }
}

TEST_CASE("redacted display never contains the key", "[credential][secret]") {
  std::string inner = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  Credential c = Credential::from_string(encode_envelope("test.momentohq.com", inner));
  std::string r = c.redacted();
  CHECK(contains(r, "v1_envelope"));
  CHECK(contains(r, "control.test.momentohq.com:443"));
  CHECK(contains(r, "ABCD"));
  CHECK_FALSE(contains(r, "ABCDE"));
  CHECK_FALSE(contains(r, c.original().substr(4, 8)));
  Credential l = Credential::from_string(kLegacy);
  CHECK_FALSE(contains(l.redacted(), kLegacy.substr(4, 6)));
}

TEST_CASE("credentials are copyable values", "[credential]") {
  Credential a = Credential::from_string(encode_envelope("e.example", kInnerKey));
  Credential b = a;
  CHECK(b.raw_key() == a.raw_key());
  Credential m = std::move(b);
  CHECK(m.raw_key() == kInnerKey);
  CHECK(a.raw_key() == kInnerKey);
}

TEST_CASE("error messages never echo the credential", "[credential][secret]") {
  // A distinctive secret embedded in many malformed inputs; no 8-byte window of the input may
  // appear in the message.
  const std::string s = "Xq7Zt2Vb9Nm4Lk8Pw3";
  const std::vector<std::string> inputs = {
      s,
      s + " " + s,
      b64(s),
      b64(R"({"endpoint":")" + s + R"("})"),
      b64(R"({"api_key":")" + s + R"("})"),
      b64(R"({"endpoint":"","api_key":")" + s + R"("})"),
      b64(R"({"endpoint":"a.b","api_key":")" + s + R"(")"),  // truncated JSON
      b64("[\"" + s + "\"]"),
      make_jwt(R"({"t":"g","k":")" + s + R"("})"),
      make_jwt(R"({"sub":")" + s + R"("})"),
      make_jwt(R"({"cp":")" + s + R"("})"),
      s + "." + s + "." + s,
      s + "\xff",
      std::string(kMaxCredentialLength, 'Q') + s,
  };
  auto check_no_window = [&](const std::string& input, const std::string& msg) {
    INFO("message: " << msg);
    for (size_t i = 0; i + 8 <= input.size(); i += 1) {
      if (msg.find(input.substr(i, 8)) != std::string::npos) {
        FAIL_CHECK("message contains input bytes at offset " << i);
        return;
      }
    }
  };
  for (const auto& in : inputs) {
    check_no_window(in, expect_invalid([&] { Credential::from_string(in); }, s));
    check_no_window(in, expect_invalid([&] { Credential::from_disposable_token(in); }, s));
    if (in.rfind(inputs[8], 0) == 0) continue;  // a well-formed v2 key is valid on the v2 path
    check_no_window(in, expect_invalid([&] { Credential::from_v2(in, "e.example"); }, s));
  }
  // ...and a valid v2 key with an empty endpoint still is not echoed.
  check_no_window(inputs[8], expect_invalid([&] { Credential::from_v2(inputs[8], ""); }, s));
}
