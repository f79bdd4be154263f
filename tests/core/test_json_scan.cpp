// The credential JSON reader (util/json_scan) against nlohmann::json: its fast in-place scan must
// accept exactly what the general parser accepts and read the same members, or step aside.
#include "core_test_util.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/json_scan.hpp"
#include "util/jwt.hpp"
#include "util/secret_json.hpp"

using momento::auth::detail::JsonMember;
using momento::auth::detail::JsonObject;

namespace {

// What nlohmann::json reads, in JsonObject's terms.
void check_same(const std::string& text) {
  INFO("text: " << text);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  JsonObject o;
  bool ok = o.parse(text);
  REQUIRE(ok == (!j.is_discarded() && j.is_object()));
  if (!ok) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const JsonMember* m = o.find(it.key());
    REQUIRE(m != nullptr);
    if (it->is_string()) {
      CHECK(m->type == JsonMember::Type::String);
      CHECK(m->str == it->get<std::string>());
    } else if (it->is_number()) {
      CHECK(m->type == JsonMember::Type::Number);
    } else {
      CHECK(m->type == JsonMember::Type::Other);
    }
  }
  CHECK(o.find("no-such-member") == nullptr);
}

}  // namespace

TEST_CASE("json_scan reads what nlohmann::json reads") {
  const std::vector<std::string> texts = {
      R"({"endpoint":"cell-1.example.com","api_key":"eyJ.a.b"})",
      R"({ "endpoint" : "e" , "api_key" : "k" })",
      " \t\r\n{\"a\":\"b\"}\n ",
      "{}", "{ }", "[]", "\"s\"", "1", "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":\"b\",}",
      "{\"a\":\"b\" \"c\":\"d\"}", "{\"a\":\"b\"}x", "{\"a\":\"b\"}{}", "{a:\"b\"}", "{'a':'b'}",
      R"({"a":"b\"c"})", R"({"a":"\u00e9\n"})", R"({"a\u0062":"x"})", "{\"a\":\"tab\there\"}",
      "{\"a\":\"ctl\x01\"}", "{\"a\":\"caf\xc3\xa9\"}",
      R"({"a":"1","a":"2"})",  // duplicates: the last one wins in both
      R"({"exp":1700000000,"t":"g"})", R"({"exp":-5})", R"({"exp":0})", R"({"exp":01})", R"({"exp":-})",
      R"({"exp":1.5})", R"({"exp":1e3})", R"({"exp":18446744073709551615})",
      R"({"exp":99999999999999999999})", R"({"exp":1700000000 })", R"({"exp":17 00})",
      R"({"a":true,"b":null,"c":[1],"d":{"e":"f"}})", R"({"a":"b","n":{}})",
      "\xEF\xBB\xBF{\"a\":\"b\"}",  // a byte-order mark, which nlohmann::json skips
      R"({"1":"a","2":"b","3":"c","4":"d","5":"e","6":"f","7":"g","8":"h","9":"i","10":"j","11":"k","12":"l","13":"m"})",
  };
  for (const auto& t : texts) check_same(t);
}

TEST_CASE("json_scan: numbers as a JWT's exp claim reads them") {
  auto exp = [](const std::string& text) {
    JsonObject o;
    REQUIRE(o.parse(text));
    const JsonMember* m = o.find("exp");
    REQUIRE(m != nullptr);
    return m->positive;
  };
  CHECK(exp(R"({"exp":1700000000})") == 1700000000u);
  CHECK(exp(R"({"exp":0})") == 0u);
  CHECK(exp(R"({"exp":-3})") == 0u);
  CHECK(exp(R"({"exp":1700000000.9})") == 1700000000u);
  CHECK(exp(R"({"exp":0.5})") == 0u);
  CHECK(exp(R"({"exp":1e30})") == 0u);
  CHECK(exp(R"({"exp":9999999999999999999})") == 9999999999999999999u);
  CHECK(exp(R"({"exp":18446744073709551615})") == 18446744073709551615u);
}

TEST_CASE("jwt_exp reads the claim of a JWT-shaped string only") {
  using momento::auth::detail::jwt_exp;
  // {"alg":"none"} . {"exp":4102444800}
  CHECK(jwt_exp("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.") == 4102444800u);
  CHECK(jwt_exp("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln") == 4102444800u);
  CHECK_FALSE(jwt_exp("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln!"));  // signature alphabet
  CHECK_FALSE(jwt_exp("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9"));        // two segments
  CHECK_FALSE(jwt_exp("eyJhbGciOiJub25lIn0.e30."));                              // {} : no exp
  CHECK_FALSE(jwt_exp("W10.eyJleHAiOjQxMDI0NDQ4MDB9."));                         // header []
  CHECK_FALSE(jwt_exp(""));
}

// util/json_syntax: the check that keeps malformed secret-bearing text away from nlohmann must
// accept exactly what nlohmann accepts, or valid files would be refused (or nlohmann would still
// meet malformed text). Every one-byte deletion, substitution and truncation of each seed.
TEST_CASE("the JSON syntax check accepts exactly what nlohmann::json accepts", "[json]") {
  const std::vector<std::string> seeds = {
      R"({"authToken":"eyJhbGciOiJIUzI1NiJ9.e30.abc","refreshToken":"r\u00e9f\/\"x","validUntil":1700000000})",
      R"([1,-0.5e+3,2E-2,true,false,null,{},[],{"a":[{"b":"\ud83d\ude00"}]}])",
      "\xEF\xBB\xBF {\"k\" : \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\" }\r\n",
      R"("\b\f\n\r\t\\" )",
      "-12345678901234567890123 ",
      "1e308",
  };
  const std::string bytes = std::string("\"\\{}[],:u0-e.+ \t\x7f", 18) + std::string(1, '\0') +
                            "\x1f\x80\xBF\xC0\xC2\xE0\xED\xF0\xF4\xF5\xFF" "D8cn9";
  size_t cases = 0;
  auto same = [&](const std::string& text) {
    ++cases;
    const bool nl = nlohmann::json::accept(text);
    if (momento::auth::detail::json_syntax_ok(text) != nl) FAIL_CHECK("differs (nlohmann " << nl << "): " << text);
  };
  for (const std::string& seed : seeds) {
    same(seed);
    for (size_t i = 0; i < seed.size(); ++i) {
      same(seed.substr(0, i));
      same(seed.substr(0, i) + seed.substr(i + 1));
      for (char b : bytes) same(seed.substr(0, i) + b + seed.substr(i + 1));
    }
  }
  for (const char* t : {"", " ", "1e999", "-1e999", "1e-999", "01", "1.", ".5", "\"\\ud800\"", "\"\\udc00\"",
                        "\"\\ud800\\u0041\"", "[1,]", "{\"a\":1,}", "\xEF\xBB", "nul", "[[[[[]]]]]", "{\"a\"}"})
    same(t);
  CHECK(cases > 8000);
}
