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

// Appends to a buffer that may hold a secret (a helper's output, an HTTP answer): when it must
// grow, the old block is wiped before it is given back, where std::string's own growth would free
// it as it is.
void append_wiped(std::string& buffer, std::string_view more);

}  // namespace momento::auth::detail
