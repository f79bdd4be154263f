// The credential JSON reader (util/json_scan) against nlohmann::json: its fast in-place scan must
// accept exactly what the general parser accepts and read the same members, or step aside.
#include "core_test_util.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/json_scan.hpp"
#include "util/jwt.hpp"

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
