// Secrets in core are wiped before their memory is released: Secret, credentials (and the
// decode buffers under them), token files. See wipe_watch.hpp for how it is checked.
#include <openssl/sha.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "momento/auth/aws.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/secret.hpp"
#include "store/internal.hpp"
#include "temp_dir.hpp"
#include "util/encoding.hpp"
#include "util/crypto.hpp"
#include "util/jwt.hpp"
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

// A JWT may be a key: its decoded header and payload are parsed into wiping buffers.
TEST_CASE("decoding a JWT's claims leaves no copy behind", "[hygiene][wipe]") {
  const std::string claim = "HygieneJwtClaimMarker0123456789abcdefghij";
  const std::string sig = "HygieneJwtSignatureMarker0123456789abcdefgh";  // 43: valid base64url
  const std::string token = "eyJhbGciOiJIUzI1NiJ9." +
                            momento::auth::detail::base64url_encode("{\"sub\":\"" + claim + "\"}") + "." + sig;
  int hits;
  bool read = false;
  {
    Watch w{claim, sig};
    {
      auto jwt = momento::auth::detail::decode_jwt_unverified(token);
      read = jwt && jwt->payload.contains("sub");
    }
    hits = w.hits();
  }
  CHECK(read);
  CHECK(hits == 0);
}

namespace {

// Points the AWS shared files and HOME at `dir` for the test's lifetime.
struct AwsHome {
  momento::test::TempDir dir;
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  AwsHome() {
    ::setenv("AWS_CONFIG_FILE", dir.file("config").c_str(), 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials").c_str(), 1);
    ::setenv("HOME", dir.path.c_str(), 1);
  }
  ~AwsHome() {
    ::unsetenv("AWS_CONFIG_FILE");
    ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    ::setenv("HOME", home.c_str(), 1);
  }
};

const std::string kAwsSecret = "HygieneAwsSecretKeyMarker0123456789abcdef";
const std::string kAwsSession = "HygieneAwsSessionTokenMarker0123456789abc";

// Fetches the profile's credentials with the watch armed; true when they were the markers.
bool fetch_watched(const std::string& profile, int& hits) {
  bool read = false;
  {
    Watch w{kAwsSecret, kAwsSession};
    {
      momento::auth::aws::CredentialProvider p(profile);
      momento::auth::aws::Credentials c = p.get();
      read = c.secret_access_key.reveal() == kAwsSecret && c.session_token.reveal() == kAwsSession;
    }
    hits = w.hits();
  }
  return read;
}

}  // namespace

TEST_CASE("AWS credentials from credential_process and the MFA cache are wiped", "[hygiene][wipe]") {
  const std::string creds = "{\"AccessKeyId\":\"ASIAHYGIENE\",\"SecretAccessKey\":\"" + kAwsSecret +
                            "\",\"SessionToken\":\"" + kAwsSession + "\",\"Expiration\":\"2999-01-01T00:00:00Z\"";
  // The process prints a file: the secret is not in the profile (which is not wiped: no secret).
  AwsHome home;
  std::ofstream(home.dir.file("config"))
      << "[profile proc]\ncredential_process = /bin/cat " << home.dir.file("process-output.json") << "\n"
      << "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n"
      << "mfa_serial = arn:aws:iam::123456789012:mfa/m\n"
      << "[profile base]\naws_access_key_id = AKIAHYGIENE\naws_secret_access_key = not-the-marker\n";
  std::ofstream(home.dir.file("process-output.json")) << "{\"Version\":1," << creds.substr(1) << "}";
  int hits = -1;
  SECTION("credential_process") {
    CHECK(fetch_watched("proc", hits));
    CHECK(hits == 0);
  }
  SECTION("the AWS CLI's MFA role cache") {
    // The cache file's name: SHA-1 of AssumeRole's arguments as Python's sorted json.dumps.
    const std::string args = "{\"RoleArn\": \"arn:aws:iam::123456789012:role/r\", "
                             "\"SerialNumber\": \"arn:aws:iam::123456789012:mfa/m\"}";
    unsigned char md[20];
    SHA1(reinterpret_cast<const unsigned char*>(args.data()), args.size(), md);
    const std::string name = momento::auth::detail::hex(std::string_view(reinterpret_cast<char*>(md), 20));
    std::filesystem::create_directories(home.dir.path / ".aws/cli/cache");
    std::ofstream(home.dir.file(".aws/cli/cache/" + name + ".json")) << "{\"Credentials\":" << creds << "}}";
    CHECK(fetch_watched("mfa", hits));
    CHECK(hits == 0);
  }
}
