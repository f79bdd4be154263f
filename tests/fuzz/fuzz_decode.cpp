// The decoders under every credential: base64 (envelopes), base64url (JWT segments), the flat
// JSON objects of envelopes and JWTs, and JWT claims. Each fast path is checked against the
// general one it must agree with: JsonObject's in-place scanner against nlohmann::json, JwtClaims
// against decode_jwt_unverified, the decode-into-buffer functions against the allocating ones.
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz.hpp"
#include "util/encoding.hpp"
#include "util/json_scan.hpp"
#include "util/jwt.hpp"
#include "util/secret_json.hpp"

using namespace momento::auth::detail;

namespace {

// docs: a Number member's `positive` is the value truncated toward zero when 1 <= v < 1.8e19.
template <class Json>
uint64_t expected_positive(const Json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.template get<uint64_t>();
    return u >= 1 && u < 18000000000000000000ULL ? u : 0;
  }
  if (v.is_number_integer()) {
    int64_t i = v.template get<int64_t>();
    return i >= 1 ? static_cast<uint64_t>(i) : 0;
  }
  double d = v.template get<double>();
  return std::isfinite(d) && d >= 1.0 && d < 1.8e19 ? static_cast<uint64_t>(d) : 0;
}

void check_object(std::string_view text) {
  // JsonObject's precondition: its callers (envelopes, JWT segments) pass UTF-8 text only.
  if (!is_valid_utf8(text)) return;
  JsonObject o;
  bool ok = o.parse(text);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  fuzz::check(ok == j.is_object(), "JsonObject and nlohmann::json disagree on an object");
  // SecretJson (wiping allocators, the text read as WipedChar) reads exactly what nlohmann::json does.
  SecretJson sj = parse_secret_json(text);
  fuzz::check(is_json(text) == !j.is_discarded(), "SecretJson and nlohmann::json disagree on validity");
  fuzz::check(sj.is_discarded() == j.is_discarded() &&
                  (j.is_discarded() || std::string_view(sj.dump()) == j.dump()),
              "SecretJson reads a value other than nlohmann::json's");
  if (!ok) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const JsonMember* m = o.find(it.key());
    fuzz::check(m != nullptr, "a member nlohmann::json reads is missing");
    const nlohmann::json& v = it.value();
    if (v.is_string()) {
      fuzz::check(m->type == JsonMember::Type::String && m->str == v.get_ref<const std::string&>(),
                  "a string member differs from nlohmann::json's");
    } else if (v.is_number()) {
      fuzz::check(m->type == JsonMember::Type::Number, "a number member is not a Number");
      fuzz::check(m->positive == expected_positive(v), "a number member's positive value is wrong");
    } else {
      fuzz::check(m->type == JsonMember::Type::Other, "a member of another type is not Other");
    }
  }
}

void check_base64(std::string_view s) {
  auto a = base64_decode(s);
  std::string buf(base64_decoded_bound(s.size()), '\0');
  auto n = base64_decode_into(s, buf.data());
  fuzz::check(a.has_value() == n.has_value() && a.has_value() == is_strict_base64(s),
              "base64 decoders disagree on acceptance");
  if (a) {
    fuzz::check(std::string_view(buf.data(), *n) == *a, "base64 decoders disagree on bytes");
    fuzz::check(base64_decode(base64_encode(*a)) == a, "base64 does not round-trip");
  }
  auto u = base64url_decode(s);
  std::string ubuf(base64_decoded_bound(s.size()), '\0');
  auto un = base64url_decode_into(s, ubuf.data());
  fuzz::check(u.has_value() == un.has_value(), "base64url decoders disagree on acceptance");
  if (u) fuzz::check(std::string_view(ubuf.data(), *un) == *u, "base64url decoders disagree on bytes");
  if (auto c = base64url_decode_canonical(s)) {
    fuzz::check(u && *u == *c, "canonical base64url decodes differently");
    std::string_view unpadded = s.substr(0, s.find_last_not_of('=') + 1);
    if (s.find_first_not_of('=') == std::string_view::npos) unpadded = {};
    fuzz::check(base64url_encode(*c) == unpadded, "canonical base64url is not the one encoding");
  }
}

void check_jwt(std::string_view s) {
  JwtClaims claims;
  bool ok = claims.decode(s);
  auto general = decode_jwt_unverified(s);
  fuzz::check(ok == general.has_value(), "JwtClaims and decode_jwt_unverified disagree");
  auto exp = jwt_exp(s);
  if (!ok) {
    fuzz::check(!exp, "jwt_exp reads a claim from a string that is not a JWT");
    return;
  }
  auto e = general->payload.find("exp");
  uint64_t want = (e != general->payload.end() && e->is_number()) ? expected_positive(*e) : 0;
  fuzz::check(exp.value_or(0) == want, "jwt_exp differs from the payload's exp claim");
  for (auto it = general->payload.begin(); it != general->payload.end(); ++it) {
    if (!it->is_string()) continue;
    const std::string_view* v = claims.payload().string(it.key());
    fuzz::check(v && *v == std::string_view(it->template get_ref<const WipedString&>()), "a JWT claim differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t mode = in.byte();
  std::string_view text = in.rest();
  switch (mode % 3) {
    case 0: check_object(text); break;
    case 1: check_base64(text); break;
    case 2: check_jwt(text); break;
  }
  return 0;
}
