// Hashing and MACs over OpenSSL, shared by core, capi, the CLI and the server.
#pragma once

#include <string>
#include <string_view>

namespace momento::auth::detail {

// SHA-256 of `data`: 32 raw bytes. Throws Error(Unknown) if OpenSSL fails.
std::string sha256(std::string_view data);

// HMAC-SHA256 of `data` under `key`: 32 raw bytes. Throws Error(Unknown) if OpenSSL fails.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lower-case hexadecimal.
std::string hex(std::string_view bytes);

}  // namespace momento::auth::detail
