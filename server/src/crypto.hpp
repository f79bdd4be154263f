// The server's random tokens and sealing over OpenSSL; hashing, MACs and encodings come from core.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/crypto.hpp"
#include "util/encoding.hpp"

namespace momento::server {

using momento::auth::detail::base64url_decode_canonical;
using momento::auth::detail::base64url_encode;
using momento::auth::detail::hex;
using momento::auth::detail::hmac_sha256;
using momento::auth::detail::sha256;

// Cryptographically secure random bytes (RAND_bytes); throws std::runtime_error if the
// generator fails, which the server treats as fatal for the call.
std::string random_bytes(size_t n);
// Printable random token: base64url of n random bytes.
std::string random_token(size_t n_bytes);

// Refuses a file of key material (signing keys, the TLS private key) that group or others may
// access, as ssh does for its keys, unless the operator allowed it (--allow-readable-keys).
// Throws std::runtime_error naming the file and its mode. A missing file is left to the reader.
void check_private_key_file(const std::string& path, bool allow_readable);

// Authenticated encryption (AES-256-GCM) under a key derived from `secret`.
// Output: nonce(12) || ciphertext || tag(16). open() returns nullopt when the tag fails.
std::string seal(std::string_view secret, std::string_view plaintext);
std::optional<std::string> open_sealed(std::string_view secret, std::string_view sealed);

}  // namespace momento::server
