// Unverified JWT decoding, used only to detect credential formats (docs/wire.md §4.5).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace momento::auth::detail {

struct UnverifiedJwt {
  nlohmann::json header;   // JSON object
  nlohmann::json payload;  // JSON object
};

// Three '.'-separated base64url segments (padding optional); header and payload must decode to
// JSON objects (surrounding JSON whitespace allowed). The signature is not checked.
std::optional<UnverifiedJwt> decode_jwt_unverified(std::string_view token);

// A string claim, or nullopt when absent or not a string.
std::optional<std::string> string_claim(const nlohmann::json& payload, const char* name);

// The `exp` claim when it is a positive number of seconds (fractions truncated).
std::optional<uint64_t> exp_claim(const nlohmann::json& payload);

}  // namespace momento::auth::detail
