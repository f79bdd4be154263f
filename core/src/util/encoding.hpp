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

// Decodes text accepted by is_strict_base64; nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view s);

// Decodes base64url (padding optional), as used by JWT segments; nullopt otherwise.
// An empty segment decodes to "".
std::optional<std::string> base64url_decode(std::string_view s);

// Standard alphabet with '=' padding, no line breaks.
std::string base64_encode(std::string_view bytes);

// URL-safe alphabet without padding (JWT segments).
std::string base64url_encode(std::string_view bytes);

}  // namespace momento::auth::detail
