// Unverified JWT decoding, used only to detect credential formats and read their claims
// (docs/wire.md §4.5). The signature is not checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "json_scan.hpp"
#include "secret_json.hpp"

namespace momento::auth::detail {

// The claims of a JWT-shaped string: three '.'-separated base64url segments (padding optional,
// the signature may be empty but must look like base64url); header and payload must decode to
// UTF-8 JSON objects (surrounding JSON whitespace allowed). Real keys decode without allocating;
// the decoded bytes are wiped on destruction. Not movable: the claims are views into it.
class JwtClaims {
 public:
  // False when the string is not JWT-shaped.
  bool decode(std::string_view token);
  const JsonObject& payload() const noexcept { return payload_; }

 private:
  WipedBuffer buf_;
  JsonObject header_, payload_;
};

// The `exp` claim of a JWT-shaped string when it is a positive number of seconds (fractions
// truncated); nullopt when the string is not a JWT or has no such claim.
std::optional<uint64_t> jwt_exp(std::string_view token);

// The same decoding as JwtClaims, into JSON documents (for tests against the vectors). A JWT may
// be a key: every buffer the parser and the documents use is wiped when freed.
struct UnverifiedJwt {
  SecretJson header;   // JSON object
  SecretJson payload;  // JSON object
};
std::optional<UnverifiedJwt> decode_jwt_unverified(std::string_view token);

}  // namespace momento::auth::detail
