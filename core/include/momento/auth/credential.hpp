// Credentials (docs/wire.md §4) and endpoint derivation (§5).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "momento/auth/expiry.hpp"
#include "momento/auth/secret.hpp"

namespace momento::auth {

struct Endpoint {
  std::string host;
  uint16_t port = 443;
  bool secure = true;
  std::string address() const { return host + ":" + std::to_string(port); }  // "host:port"
  bool operator==(const Endpoint&) const = default;
};

struct Endpoints {
  Endpoint control;  // auth.Auth, control_client.ScsControl
  Endpoint cache;    // cache_client.Scs, cache_client.Ping
  Endpoint token;    // token.Token
  bool operator==(const Endpoints&) const = default;
};

// "host" or "host:port" (default port 443). Throws InvalidArgument on an empty host or bad port.
Endpoint parse_endpoint(std::string_view s, bool secure);

// Endpoint overrides (§5.2); they replace whatever the credential implies.
struct BaseEndpointOverride {
  std::string base_endpoint;
  std::string endpoint_prefix;  // optional
  bool secure = true;
};
struct ExplicitEndpointsOverride {
  std::string control, cache, token;  // each "host[:port]"
  bool secure = true;
};
// One "host:port" for all three services: a local server.
struct SingleEndpointOverride {
  std::string address;
  bool secure = false;
};
using EndpointOverride =
    std::variant<BaseEndpointOverride, ExplicitEndpointsOverride, SingleEndpointOverride>;

// Endpoints for a base endpoint E: control.E, cache.E, token.E (with optional prefix).
Endpoints derive_endpoints(std::string_view base, std::string_view prefix = {}, bool secure = true);
Endpoints resolve_override(const EndpointOverride& o);

enum class CredentialKind { V1Envelope, V2ApiKey, LegacyJwt, SessionToken, Local };
const char* credential_kind_name(CredentialKind kind) noexcept;  // "v1_envelope", ...

// Where a local server (momento-auth-server, Momento Local) listens unless told otherwise, and so
// where a local credential points by default.
inline constexpr std::string_view kLocalHost = "127.0.0.1";
inline constexpr uint16_t kLocalPort = 8080;

// The environment variables a key and a v2 key's endpoint are read from by default (the names the
// Momento SDKs use).
inline constexpr const char* kApiKeyVar = "MOMENTO_API_KEY";
inline constexpr const char* kEndpointVar = "MOMENTO_ENDPOINT";

// Inputs longer than this are rejected before any parsing.
inline constexpr size_t kMaxCredentialLength = 16 * 1024;

// Encodes a v1 envelope exactly as docs/wire.md §4.4 (compact JSON, endpoint first, padded base64).
std::string encode_envelope(std::string_view endpoint, std::string_view api_key);

// An immutable, parsed credential. Copies are cheap enough; secrets are wiped on destruction.
class Credential {
 public:
  // v1/legacy path (§4.3): v1 envelope, legacy JWT, session token (needs an override).
  static Credential from_string(std::string_view s,
                                const std::optional<EndpointOverride>& o = std::nullopt);
  // Disposable tokens: same rules as from_string.
  static Credential from_disposable_token(std::string_view s,
                                          const std::optional<EndpointOverride>& o = std::nullopt);
  // v2 key with a separately supplied base endpoint.
  static Credential from_v2(std::string_view key, std::string_view endpoint,
                            const std::optional<EndpointOverride>& o = std::nullopt);
  // A key in any format: the v1/legacy path, or a v2 key with its base endpoint from the
  // environment variable `endpoint_var` (an error naming that variable when it is unset).
  // Here and below, a null variable name means the default (kApiKeyVar, kEndpointVar).
  static Credential from_key(std::string_view key,
                             const std::optional<EndpointOverride>& o = std::nullopt,
                             const char* endpoint_var = kEndpointVar);
  // MOMENTO_API_KEY (+ MOMENTO_ENDPOINT for v2 keys), or the named variables; as from_key.
  static Credential from_environment(const std::optional<EndpointOverride>& o = std::nullopt,
                                     const char* key_var = kApiKeyVar,
                                     const char* endpoint_var = kEndpointVar);
  // A token file in the Download-JSON shape; carries the refresh token and validUntil.
  static Credential from_file(const std::string& path,
                              const std::optional<EndpointOverride>& o = std::nullopt);
  // A key file: the Download-JSON shape (as from_file) or a bare key in any format (as from_key).
  static Credential from_key_file(const std::string& path,
                                  const std::optional<EndpointOverride>& o = std::nullopt,
                                  const char* endpoint_var = kEndpointVar);
  // No key, all endpoints host:port, plaintext.
  static Credential local(std::string_view host = kLocalHost, uint16_t port = kLocalPort);

  CredentialKind kind() const noexcept { return kind_; }
  // What goes into `authorization` and the body fields: the inner api_key of an envelope.
  const std::string& raw_key() const noexcept { return raw_key_.reveal(); }
  // The original string given (for envelopes: the envelope).
  const std::string& original() const noexcept { return original_.reveal(); }
  // Base endpoint (envelope `endpoint`, v2 endpoint argument); empty for legacy/session/local.
  const std::string& base_endpoint() const noexcept { return base_endpoint_; }
  const Endpoints& endpoints() const noexcept { return endpoints_; }
  bool endpoints_overridden() const noexcept { return overridden_; }
  // Expiry where known (token file validUntil, or an `exp` claim of a JWT-shaped key, read from
  // the key on each call: parsing does not decode an envelope's inner key).
  std::optional<ExpiresAt> expires_at() const;
  // Refresh token that came with the credential (token files), may be empty.
  const std::string& refresh_token() const noexcept { return refresh_token_.reveal(); }
  // A display safe for logs: kind, control endpoint and redacted key.
  std::string redacted() const;

  // Returns a copy with the endpoints replaced by the override.
  Credential with_override(const EndpointOverride& o) const;

 private:
  Credential() = default;
  CredentialKind kind_ = CredentialKind::Local;
  Secret raw_key_;
  Secret original_;
  Secret refresh_token_;
  std::string base_endpoint_;
  Endpoints endpoints_;
  bool overridden_ = false;
  std::optional<ExpiresAt> expires_at_;  // from a token file; else read from the key
  bool never_without_exp_ = false;       // a token file said "never" and the key has no exp
  friend class CredentialBuilder;
};

// A key with its refresh token and expiry: what the service returns for a mint, a refresh or a
// disposable token, what a token file holds in the Download-JSON shape
// {"authToken","refreshToken","validUntil"} (docs/wire.md §11) and what a store holds. One type
// for all of them, so nothing converts or re-parses on the way (the C handle momento_token_t
// holds it as is; its getters have the same names).
struct Token {
  Secret api_key;        // v1 envelope (endpoint + raw key); "authToken" in the JSON
  Secret refresh_token;  // "" for never-expiring keys and disposable tokens
  ExpiresAt valid_until = ExpiresAt::never();
  // The base endpoint the service reported; "" for a key read from a file or a store (which do
  // not keep it): base_endpoint() then reads it from the key.
  std::string endpoint;

  std::string base_endpoint() const;
};

// A key's redacted display as a credential shows it: of the key inside a v1 envelope, otherwise
// of the text as it is (text that does not parse as a key included). Refresher events and the
// CLI show minted and stored keys this way, so one key reads the same everywhere.
std::string redacted_key(std::string_view key);

// The base endpoint a stored key names (a v1 envelope's endpoint), for a Token that did not
// come with one; "" when the text is not such a key (a bare key from an env store, say).
std::string base_endpoint_of_key(std::string_view api_key);

// The shape of a token's JSON text as it was read, so that another key is written back the same
// way: the member that held the key (authToken, apiKey or apiToken), whether validUntil was a
// number or a string, and every other member, in order. A default TokenJson is the shape this
// library writes: {"authToken","refreshToken","validUntil"} with validUntil as a decimal string.
// Immutable and cheap to copy; the members it keeps are wiped when the last copy goes.
class TokenJson {
 public:
  struct Doc;

 private:
  std::shared_ptr<const Doc> doc_;  // null: the default shape
  friend Token parse_token_file_json(std::string_view json, TokenJson* shape);
  friend std::string token_file_json(const Token& t, const TokenJson& shape);
};

// Parses the JSON text: the key is the first of authToken, apiKey, apiToken that is present and
// not null; validUntil a number or a decimal string (0/"0"/absent/null = never). Commas right
// before a closing brace or bracket (left by hand edits) are allowed. `shape`, when given,
// receives the text's shape for token_file_json(). Errors never quote the text.
Token parse_token_file_json(std::string_view json, TokenJson* shape = nullptr);
// Compact JSON in `shape` with the key, refresh token and validUntil of `t`: the default shape
// gives exactly the three members, validUntil as a decimal string.
std::string token_file_json(const Token& t, const TokenJson& shape = {});
Token read_token_file(const std::string& path);
// The text of a token file or key file (at most 64 KiB, a regular file); `what` names it in
// errors, and an absent file is InvalidArgument like any other unusable path.
Secret read_key_file_text(const std::string& path, std::string_view what);
// Atomic replace: temp file 0600, fsync, rename, fsync directory.
void write_token_file(const std::string& path, const Token& t);

}  // namespace momento::auth
