// Internal text/encoding helpers shared by credential parsing, token files and the server.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace momento::auth::detail {

// Leading/trailing space, TAB, CR and LF removed (docs/wire.md §4.3 step 1).
std::string_view trim_ascii_whitespace(std::string_view s) noexcept;

// True when every character is ASCII whitespace (also true for "").
bool is_blank(std::string_view s) noexcept;

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

// docs/wire.md §4.4: standard or URL-safe alphabet (not mixed), padded (length % 4 == 0, at most two
// '=' at the end) or unpadded (length % 4 != 1). Empty input is not base64.
bool is_strict_base64(std::string_view s) noexcept;

// base64url (padding optional), as JWT segments use it.
bool is_base64url(std::string_view s) noexcept;

// Decodes text accepted by is_strict_base64; nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view s);

// Decodes base64url (padding optional), as used by JWT segments; nullopt otherwise.
// An empty segment decodes to "".
std::optional<std::string> base64url_decode(std::string_view s);

// Decode into a caller's buffer (room for base64_decoded_bound(s.size()) bytes): no allocation.
// The number of bytes written, or nullopt for text the functions above reject.
constexpr size_t base64_decoded_bound(size_t n) { return n / 4 * 3 + 3; }
std::optional<size_t> base64_decode_into(std::string_view s, char* out) noexcept;
std::optional<size_t> base64url_decode_into(std::string_view s, char* out) noexcept;

// Standard alphabet with '=' padding, no line breaks.
std::string base64_encode(std::string_view bytes);

// URL-safe alphabet without padding (JWT segments).
std::string base64url_encode(std::string_view bytes);

}  // namespace momento::auth::detail
