// Credential parsing, every format: v1 envelopes, legacy JWTs, session tokens, v2 keys and
// disposable tokens, with and without endpoint overrides. Besides not crashing, a parse either
// succeeds or throws momento::auth::Error, and neither its message nor the redacted display ever
// quotes the key.
#include <optional>
#include <string>

#include "fuzz.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"

using namespace momento::auth;

namespace {

std::optional<EndpointOverride> make_override(uint8_t which, std::string_view text) {
  switch (which % 4) {
    case 1: return BaseEndpointOverride{std::string(text), "", true};
    case 2: return ExplicitEndpointsOverride{std::string(text), std::string(text), std::string(text), true};
    case 3: return SingleEndpointOverride{std::string(text), false};
    default: return std::nullopt;
  }
}

void inspect(const Credential& c) {
  (void)credential_kind_name(c.kind());
  (void)c.expires_at();
  std::string shown = c.redacted();
  // The display names the control endpoint, which is not secret and may contain any text.
  bool in_endpoint = c.endpoints().control.host.find(c.raw_key()) != std::string::npos;
  fuzz::check(in_endpoint || !fuzz::echoes(shown, c.raw_key()), "redacted() shows the key");
  (void)c.endpoints().control.address();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t mode = in.byte();
  std::string_view override_text = in.field();
  std::string_view endpoint = in.field();
  std::string_view key = in.rest();
  std::optional<EndpointOverride> o;
  try {
    o = make_override(mode >> 2, override_text);
    if (o) (void)resolve_override(*o);
  } catch (const Error&) {
    o.reset();  // an override the rules refuse; the credential is parsed without one
  }
  try {
    switch (mode % 4) {
      case 0: inspect(Credential::from_string(key, o)); break;
      case 1: inspect(Credential::from_disposable_token(key, o)); break;
      case 2: inspect(Credential::from_v2(key, endpoint, o)); break;
      case 3: {
        // The key a stored token names, and an envelope built from the parts, parsed back.
        (void)base_endpoint_of_key(key);
        std::string env = encode_envelope(endpoint, key);
        Credential c = Credential::from_string(env);
        fuzz::check(c.kind() == CredentialKind::V1Envelope, "an encoded envelope is not read as one");
        fuzz::check(c.raw_key() == key && c.base_endpoint() == endpoint,
                    "an envelope does not read back as the endpoint and key it was built from");
        inspect(c);
        break;
      }
    }
  } catch (const Error& e) {
    // Endpoints are not secret and may be named; a key that is part of one proves nothing.
    std::string_view msg = e.what();
    bool in_endpoint = endpoint.find(key) != std::string_view::npos ||
                       override_text.find(key) != std::string_view::npos;
    fuzz::check(in_endpoint || !fuzz::echoes(msg, key), "an error message quotes the credential");
  }
  return 0;
}
