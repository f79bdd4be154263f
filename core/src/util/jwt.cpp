#include "jwt.hpp"

#include "encoding.hpp"
#include "momento/auth/secret.hpp"

namespace momento::auth::detail {

namespace {

struct Segments {
  std::string_view header, payload;
};

// Splits a token into its three segments and checks the signature's alphabet.
std::optional<Segments> split(std::string_view token) noexcept {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  Segments s{token.substr(0, first), token.substr(first + 1, second - first - 1)};
  std::string_view signature = token.substr(second + 1);
  if (s.header.empty() || s.payload.empty()) return std::nullopt;
  // The signature is not verified, but it must still look like base64url.
  if (!signature.empty() && !is_base64url(signature)) return std::nullopt;
  return s;
}

// Decodes one segment into out; the text when it is non-empty UTF-8.
std::optional<std::string_view> decode_segment(std::string_view segment, char* out) noexcept {
  auto n = base64url_decode_into(segment, out);
  if (!n || *n == 0) return std::nullopt;
  std::string_view text(out, *n);
  if (!is_valid_utf8(text)) return std::nullopt;
  return text;
}

}  // namespace

bool JwtClaims::decode(std::string_view token) {
  auto s = split(token);
  if (!s) return false;
  size_t h_room = base64_decoded_bound(s->header.size());
  char* out = buf_.reserve(h_room + base64_decoded_bound(s->payload.size()));
  auto h = decode_segment(s->header, out);
  if (!h || !header_.parse(*h)) return false;
  auto p = decode_segment(s->payload, out + h_room);
  return p && payload_.parse(*p);
}

std::optional<uint64_t> jwt_exp(std::string_view token) {
  JwtClaims claims;
  if (!claims.decode(token)) return std::nullopt;
  const JsonMember* exp = claims.payload().find("exp");
  if (!exp || exp->type != JsonMember::Type::Number || exp->positive == 0) return std::nullopt;
  return exp->positive;
}

std::optional<UnverifiedJwt> decode_jwt_unverified(std::string_view token) {
  auto s = split(token);
  if (!s) return std::nullopt;
  auto object = [](std::string_view segment) -> std::optional<SecretJson> {
    auto bytes = base64url_decode(segment);
    if (!bytes || bytes->empty()) return std::nullopt;
    std::optional<SecretJson> result;
    if (is_valid_utf8(*bytes)) {
      SecretJson j = parse_secret_json(*bytes);
      if (j.is_object()) result = std::move(j);
    }
    wipe(*bytes);
    return result;
  };
  auto h = object(s->header);
  if (!h) return std::nullopt;
  auto p = object(s->payload);
  if (!p) return std::nullopt;
  return UnverifiedJwt{std::move(*h), std::move(*p)};
}

}  // namespace momento::auth::detail
