// Secrets in core are wiped before their memory is released: Secret, credentials (and the
// decode buffers under them), token files. See wipe_watch.hpp for how it is checked.
#include <openssl/sha.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "momento/auth/aws.hpp"
#include "momento/auth/client.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/secret.hpp"
#include "store/aws_internal.hpp"
#include "store/internal.hpp"
#include "temp_dir.hpp"
#include "util/encoding.hpp"
#include "util/crypto.hpp"
#include "util/jwt.hpp"
#include "util/secret_json.hpp"
#include "recording_server.hpp"
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
// `also`: a further secret the path handles (a bearer token), watched too. this_thread_only: for
// sources behind an in-process HTTP peer (see Watch).
bool fetch_watched(const std::string& profile, int& hits, std::string_view also = "HygieneUnused",
                   bool this_thread_only = false) {
  bool read = false;
  {
    Watch w({kAwsSecret, kAwsSession, also}, this_thread_only);
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

namespace {

// An HTTP peer in this process (Debian's cpp-httplib) answering each path with a fixed body: the
// container endpoint, instance metadata, the SSO portal.
class Peer {
 public:
  // Each answer is sent from the test's own string (a content provider): the peer makes no copy
  // of it, whose freed block this thread could later reuse.
  explicit Peer(std::map<std::string, std::string> answers) : answers_(std::move(answers)) {
    auto answer = [this](const httplib::Request& req, httplib::Response& res) {
      auto it = answers_.find(req.path);
      if (it == answers_.end()) {
        res.status = 404;
        return;
      }
      const std::string* body = &it->second;
      res.set_content_provider(body->size(), "application/json",
                               [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                 return sink.write(body->data() + offset, length);
                               });
    };
    server_.Get(".*", answer);
    server_.Put(".*", answer);
    port_ = server_.bind_to_any_port("127.0.0.1");  // listening from here on: no race with the client
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Peer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::map<std::string, std::string> answers_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// Sets environment variables for the test's lifetime (and clears those the chain would prefer).
struct Env {
  std::vector<std::string> names;
  Env(std::initializer_list<std::pair<const char*, std::string>> vars) {
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL"})
      ::unsetenv(v);
    for (auto& [k, v] : vars) {
      ::setenv(k, v.c_str(), 1);
      names.emplace_back(k);
    }
  }
  ~Env() {
    for (auto& n : names) ::unsetenv(n.c_str());
  }
};

const std::string kBearer = "HygieneAwsBearerTokenMarker0123456789abcde";
const std::string kExpiry = "2999-01-01T00:00:00Z";

// The pieces joined into one string grown in place: concatenating temporaries would leave copies
// of the secrets in blocks this thread frees before the watch and may reuse during it.
std::string joined(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}

}  // namespace

TEST_CASE("AWS credentials from the container endpoint, instance metadata and SSO are wiped", "[hygiene][wipe]") {
  AwsHome home;
  std::ofstream(home.dir.file("config")) << "";
  int hits = -1;
  SECTION("the container credentials endpoint (with its authorization token)") {
    Peer peer({{"/creds", joined({"{\"AccessKeyId\":\"ASIAHYGIENE\",\"SecretAccessKey\":\"", kAwsSecret,
                                  "\",\"Token\":\"", kAwsSession, "\",\"Expiration\":\"", kExpiry, "\"}"})}});
    Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", peer.url() + "/creds"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kBearer}};
    CHECK(fetch_watched("", hits, kBearer, true));
    CHECK(hits == 0);
  }
  SECTION("instance metadata (IMDSv2, with its session token)") {
    const std::string role = "/latest/meta-data/iam/security-credentials/";
    Peer peer({{"/latest/api/token", kBearer},
               {role, "hygiene-role"},
               {role + "hygiene-role", joined({"{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAHYGIENE\",\"SecretAccessKey\":\"",
                                               kAwsSecret, "\",\"Token\":\"", kAwsSession, "\",\"Expiration\":\"",
                                               kExpiry, "\"}"})}});
    Env env{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", peer.url()}};
    CHECK(fetch_watched("", hits, kBearer, true));
    CHECK(hits == 0);
  }
  SECTION("the SSO portal (with the cached access token)") {
    const std::string start = "https://hygiene.awsapps.com/start";
    std::ofstream(home.dir.file("config"))
        << "[profile sso]\nsso_start_url = " << start << "\nsso_region = us-east-1\n"
        << "sso_account_id = 123456789012\nsso_role_name = hygiene\n";
    unsigned char md[20];
    SHA1(reinterpret_cast<const unsigned char*>(start.data()), start.size(), md);
    const std::string name = momento::auth::detail::hex(std::string_view(reinterpret_cast<char*>(md), 20));
    std::filesystem::create_directories(home.dir.path / ".aws/sso/cache");
    std::ofstream(home.dir.file(".aws/sso/cache/" + name + ".json"))
        << "{\"accessToken\":\"" << kBearer << "\",\"expiresAt\":\"" << kExpiry << "\"}";
    Peer peer({{"/federation/credentials",
                joined({"{\"roleCredentials\":{\"accessKeyId\":\"ASIAHYGIENE\",\"secretAccessKey\":\"", kAwsSecret,
                        "\",\"sessionToken\":\"", kAwsSession, "\",\"expiration\":32503680000000}}"})}});
    Env env{{"AWS_ENDPOINT_URL_SSO", peer.url()}};
    CHECK(fetch_watched("sso", hits, kBearer, true));
    CHECK(hits == 0);
  }
}

TEST_CASE("a credential_process output read in several pieces leaves no copy behind", "[hygiene][wipe]") {
  // Larger than one read (4 KiB): the output buffer grows while it holds the secret.
  AwsHome home;
  std::ofstream(home.dir.file("config"))
      << "[profile proc]\ncredential_process = /bin/cat " << home.dir.file("process-output.json") << "\n";
  std::ofstream(home.dir.file("process-output.json"))
      << "{\"Version\":1,\"AccessKeyId\":\"ASIAHYGIENE\",\"SecretAccessKey\":\"" << kAwsSecret
      << "\",\"SessionToken\":\"" << kAwsSession << "\",\"Expiration\":\"" << kExpiry << "\"}"
      << std::string(20000, ' ');
  int hits = -1;
  CHECK(fetch_watched("proc", hits));
  CHECK(hits == 0);
}

TEST_CASE("malformed JSON holding a secret leaves no copy behind", "[hygiene][wipe]") {
  // nlohmann's error message quotes the token it stopped in; the syntax check comes first.
  const std::string secret = "HygieneJsonErrorMarker0123456789abcdefghij";
  const std::string unterminated = "{\"SecretAccessKey\":\"" + secret;
  const std::string no_colon = "{\"SecretAccessKey\" \"" + secret + "\"}";
  int hits;
  bool refused;
  {
    Watch w{secret};
    refused = momento::auth::detail::parse_secret_json(unterminated).is_discarded() &&
              momento::auth::detail::parse_secret_json(no_colon).is_discarded();
    hits = w.hits();
  }
  CHECK(refused);
  CHECK(hits == 0);
}

TEST_CASE("an answer with a refresh token but no key leaves no copy of the token", "[hygiene][wipe]") {
  // The client rejects the answer; the refresh token it had already taken from it is wiped too.
  momento::testing::RecordingServer server;
  server.api_key.clear();
  server.refresh_token = kKey;
  momento::auth::ClientConfig config;
  config.deadline = std::chrono::seconds(10);
  momento::auth::AuthClient client(
      momento::auth::Credential::from_string(momento::auth::encode_envelope("base.example", "caller-key"),
                                             momento::auth::SingleEndpointOverride{server.address(), false}),
      config);
  std::optional<momento::auth::ErrorCode> code;
  int hits;
  {
    Watch w({kSig}, true);  // the server's threads hold the token too
    try {
      client.refresh_api_key("the-refresh-token-sent");
    } catch (const momento::auth::Error& e) {
      code = e.code();
    }
    hits = w.hits();
  }
  CHECK(code == momento::auth::ErrorCode::UnknownService);
  CHECK(hits == 0);
}

TEST_CASE("an AWS request refused before it is sent leaves no copy of its headers", "[hygiene][wipe]") {
  namespace impl = momento::auth::aws::impl;
  bool refused = false;
  int hits;
  {
    Watch w{kSig};
    {
      impl::HttpCall call;
      call.method = "DELETE";  // not one the AWS sources send: refused before the transfer
      call.url = "http://127.0.0.1:1/";
      call.headers.push_back("Authorization: Bearer " + kKey);
      try {
        impl::http_call(call, "the test");
      } catch (const momento::auth::Error&) {
        refused = true;
      }
    }
    hits = w.hits();
  }
  CHECK(refused);
  CHECK(hits == 0);
}
