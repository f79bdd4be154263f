// Small cryptographic helpers over OpenSSL: encoding, hashing, MACs, sealing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace momento::server {

// Unpadded base64url (RFC 4648 §5), as JWT segments use.
std::string base64url_encode(std::string_view bytes);
// Accepts base64url with or without padding; nullopt for any other character or a bad length.
std::optional<std::string> base64url_decode(std::string_view text);

std::string to_hex(std::string_view bytes);

// Cryptographically secure random bytes (RAND_bytes); throws std::runtime_error if the
// generator fails, which the server treats as fatal for the call.
std::string random_bytes(size_t n);
// Printable random token: base64url of n random bytes.
std::string random_token(size_t n_bytes);

std::string sha256(std::string_view data);                           // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

// Authenticated encryption (AES-256-GCM) under a key derived from `secret`.
// Output: nonce(12) || ciphertext || tag(16). open() returns nullopt when the tag fails.
std::string seal(std::string_view secret, std::string_view plaintext);
std::optional<std::string> open_sealed(std::string_view secret, std::string_view sealed);

}  // namespace momento::server
