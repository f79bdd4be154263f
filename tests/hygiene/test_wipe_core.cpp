// Secrets in core are wiped before their memory is released: Secret, credentials (and the
// decode buffers under them), token files. See wipe_watch.hpp for how it is checked.
#include <catch2/catch.hpp>

#include "momento/auth/credential.hpp"
#include "momento/auth/secret.hpp"
#include "store/internal.hpp"
#include "wipe_watch.hpp"

TEST_CASE("control: an ordinary string's bytes are seen when it is freed", "[hygiene][wipe]") {
  CHECK(control_hits() == 1);
}

TEST_CASE("Secret wipes its buffer on destruction and on assignment", "[hygiene][wipe]") {
  int hits;
  {
    Watch w{kSig};
    { momento::auth::Secret s{std::string(kKey)}; }
    momento::auth::Secret t{std::string(kKey)};
    t = momento::auth::Secret(std::string("another value, long enough to be on the heap......"));
    std::string grown = kKey;
    grown.resize(8);  // shorter contents: wipe() still cleanses the whole capacity
    momento::auth::wipe(grown);
    hits = w.hits();
  }
  CHECK(hits == 0);
}

TEST_CASE("credentials wipe the key and envelope they hold", "[hygiene][wipe]") {
  using momento::auth::Credential;
  const std::string envelope = momento::auth::encode_envelope("cache.example.com", kKey);
  const std::string long_key = kKey + std::string(1500, 'A');  // the decoder's heap path
  const std::string long_envelope = momento::auth::encode_envelope("cache.example.com", long_key);
  const std::string piece = envelope.substr(8, 40), long_piece = long_envelope.substr(8, 40);
  int hits;
  {
    Watch w{kSig, piece, long_piece};
    { Credential c = Credential::from_string(envelope); }
    { Credential c = Credential::from_string(long_envelope); }
    {
      Credential c = Credential::from_string(envelope);
      Credential copy = c;
      Credential moved = std::move(c);
    }
    hits = w.hits();
  }
  CHECK(hits == 0);
}

// nlohmann::json's lexer copies each token into buffers of its own (token_buffer, token_string):
// core parses secret-bearing JSON as detail::SecretJson, whose every buffer is wiped on free.
TEST_CASE("token files wipe the key and refresh token they held", "[hygiene][wipe]") {
  const std::string refresh = "HygieneRefreshTokenMarker0123456789abcdefgh";
  const std::string envelope = momento::auth::encode_envelope("cache.example.com", kKey);
  const std::string json = "{\"authToken\":\"" + envelope + "\",\"refreshToken\":\"" + refresh +
                           "\",\"validUntil\":\"0\"}";
  const std::string piece = envelope.substr(8, 40);
  int hits;
  {
    Watch w{piece, refresh};
    { momento::auth::Token t = momento::auth::parse_token_file_json(json); }
    hits = w.hits();
  }
  CHECK(hits == 0);
}

TEST_CASE("writing token files and envelopes leaves no copy behind", "[hygiene][wipe]") {
  const std::string refresh = "HygieneRefreshTokenMarker0123456789abcdefgh";
  int hits;
  {
    Watch w{kSig, refresh};
    momento::auth::Token t;
    t.api_key = momento::auth::Secret(std::string(kKey));
    t.refresh_token = momento::auth::Secret(std::string(refresh));
    {
      std::string text = momento::auth::token_file_json(t);
      momento::auth::wipe(text);
    }
    {
      std::string envelope = momento::auth::encode_envelope("cache.example.com", kKey);
      momento::auth::wipe(envelope);
    }
    hits = w.hits();
  }
  CHECK(hits == 0);
}

TEST_CASE("a Secrets Manager answer is wiped, its SecretString JSON in JSON included", "[hygiene][wipe]") {
  const std::string refresh = "HygieneRefreshTokenMarker0123456789abcdefgh";
  // SecretString is a token file as a JSON string: every quote escaped, so the lexer unescapes it.
  const std::string answer = "{\"ARN\":\"arn:aws:secretsmanager:us-east-1:1:secret:x\",\"CreatedDate\":1.7e9,"
                             "\"SecretString\":\"{\\\"authToken\\\":\\\"" + kKey +
                             "\\\",\\\"refreshToken\\\":\\\"" + refresh + "\\\"}\",\"VersionId\":\"v1\"}";
  int hits;
  bool read = false;
  {
    Watch w{kSig, refresh};
    {
      momento::auth::StoreSnapshot s = momento::auth::aws::parse_secret_value(answer, "x");
      read = s.token.api_key.reveal() == kKey && s.written_at_ms == int64_t{1700000000000};
    }
    hits = w.hits();
  }
  CHECK(read);
  CHECK(hits == 0);
}
