#include "jwt.hpp"

#include <cmath>

#include "encoding.hpp"
#include "momento/auth/secret.hpp"

namespace momento::auth::detail {

namespace {

std::optional<nlohmann::json> decode_object_segment(std::string_view segment) {
  auto bytes = base64url_decode(segment);
  if (!bytes || bytes->empty()) return std::nullopt;
  std::optional<nlohmann::json> result;
  if (is_valid_utf8(*bytes)) {
    // No exceptions: parser messages can quote input bytes.
    nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, false);
    if (j.is_object()) result = std::move(j);
  }
  wipe(*bytes);
  return result;
}

}  // namespace

std::optional<UnverifiedJwt> decode_jwt_unverified(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  std::string_view header = token.substr(0, first);
  std::string_view payload = token.substr(first + 1, second - first - 1);
  std::string_view signature = token.substr(second + 1);
  if (header.empty() || payload.empty()) return std::nullopt;
  // The signature is not verified, but it must still look like base64url.
  if (!signature.empty() && !base64url_decode(signature)) return std::nullopt;
  auto h = decode_object_segment(header);
  if (!h) return std::nullopt;
  auto p = decode_object_segment(payload);
  if (!p) return std::nullopt;
  return UnverifiedJwt{std::move(*h), std::move(*p)};
}

std::optional<std::string> string_claim(const nlohmann::json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<uint64_t> exp_claim(const nlohmann::json& payload) {
  auto it = payload.find("exp");
  if (it == payload.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    return v > 0 ? std::optional<uint64_t>(v) : std::nullopt;
  }
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    return v > 0 ? std::optional<uint64_t>(static_cast<uint64_t>(v)) : std::nullopt;
  }
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && v >= 1.0 && v < 1.8e19) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

}  // namespace momento::auth::detail
