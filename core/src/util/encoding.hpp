// Text and encoding helpers shared by core, capi, the CLI and the server.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace momento::auth::detail {

// Leading/trailing space, TAB, CR and LF removed (docs/wire.md §4.3 step 1). Inline: the CLI,
// built on the C ABI, uses it without linking core.
constexpr std::string_view trim_ascii_whitespace(std::string_view s) noexcept {
  constexpr std::string_view ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// True when every character is ASCII whitespace (also true for "").
bool is_blank(std::string_view s) noexcept;

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

// True if the text holds a C0 control (U+0000-U+001F), DEL or, UTF-8 encoded, a C1 control
// (U+0080-U+009F): characters that move a terminal's cursor or start escape sequences.
bool has_control_characters(std::string_view s) noexcept;

// Number of code points of well-formed UTF-8 (as is_valid_utf8 defines it); nullopt otherwise.
std::optional<size_t> utf8_code_points(std::string_view s) noexcept;

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

// As base64url_decode, and the text is the one canonical encoding of its bytes (unused bits in
// the last character are zero), so that a signed token has exactly one textual form.
std::optional<std::string> base64url_decode_canonical(std::string_view s);

// Standard alphabet with '=' padding, no line breaks.
std::string base64_encode(std::string_view bytes);

// URL-safe alphabet without padding (JWT segments).
std::string base64url_encode(std::string_view bytes);

}  // namespace momento::auth::detail
