// AWS Secrets Manager token store: SigV4-signed JSON requests over libcurl.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "momento/auth/secret.hpp"
#include "momento/auth/store.hpp"

namespace momento::auth::aws {

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty unless temporary credentials
};

// The standard lookup order, minus instance metadata: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
// (/ AWS_SESSION_TOKEN), then the profile (`profile` argument, else AWS_PROFILE, else "default")
// in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then in AWS_CONFIG_FILE (~/.aws/config).
// Throws Error(InvalidArgument) naming what was looked at when nothing is found.
Credentials resolve_credentials(std::string_view profile = {});

// `region` if non-empty, else AWS_REGION, AWS_DEFAULT_REGION, then `region` of the profile in
// the shared config file. Throws Error(InvalidArgument) when none is set.
std::string resolve_region(std::string_view region = {}, std::string_view profile = {});

// `endpoint` if non-empty, else AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, else
// https://secretsmanager.<region>.amazonaws.com. Always a URL with a scheme, no trailing "/".
std::string resolve_endpoint(std::string_view endpoint, std::string_view region);

// Parses an INI-style AWS shared file into section -> key -> value. In the config file, profile
// sections are named "profile NAME" (except "default"); callers pass the file kind.
std::map<std::string, std::map<std::string, std::string>> parse_shared_file(std::string_view text);

// An HTTP request as it will be sent.
struct HttpRequest {
  std::string method = "POST";
  std::string url;                                   // scheme://host[:port]/path
  std::vector<std::pair<std::string, std::string>> headers;  // in sending order
  std::string body;
};

// SigV4 (AWS4-HMAC-SHA256) over `request`: adds X-Amz-Date, X-Amz-Security-Token (temporary
// credentials) and Authorization. Signs every header present plus Host. `amz_date` is
// "YYYYMMDDTHHMMSSZ" (UTC). Throws InvalidArgument on a malformed URL or date.
void sign_v4(HttpRequest& request, const Credentials& credentials, std::string_view region,
             std::string_view service, std::string_view amz_date);

// "YYYYMMDDTHHMMSSZ" for a Unix time.
std::string amz_date(int64_t epoch_seconds);

// The unsigned request for one Secrets Manager action (e.g. "GetSecretValue") with its JSON body:
// POST <endpoint>/, Content-Type application/x-amz-json-1.1, X-Amz-Target secretsmanager.<action>.
HttpRequest secrets_manager_request(std::string_view endpoint, std::string_view action,
                                    std::string body);

struct SecretsManagerOptions {
  std::string secret_id;  // name or ARN; required
  std::string region;     // see resolve_region
  std::string profile;    // see resolve_credentials
  std::string endpoint;   // see resolve_endpoint
  std::optional<Credentials> credentials;  // explicit credentials instead of the lookup
  std::chrono::milliseconds timeout{10000};  // per HTTP request
  std::string ca_file;    // PEM roots; empty = system roots
  // Same-host exclusion between refreshers: an OFD lock on this file. Empty = no local lock.
  std::string lock_path;
  // Where the refresh journal lives. Empty = in memory (lost answers are still replayed within
  // this process, not across a crash).
  std::string journal_path;
  // A refresh claim (see lock()) older than this, whose holder neither finished nor released
  // it, is taken over: its holder is presumed dead. Keep it well inside the auth server's
  // replay window (30 s), so the taker's replay of a refresh the holder may have sent still
  // gets the same answer.
  std::chrono::milliseconds claim_stale_after{10000};
};

// A secret in AWS Secrets Manager holding the Download-JSON shape.
//  - load(): GetSecretValue of the AWSCURRENT stage; version = VersionId, written_at = CreatedDate.
//  - store(): PutSecretValue with VersionStages ["AWSCURRENT"]; Secrets Manager moves the stage
//    in one step (the previous version becomes AWSPREVIOUS), so readers see a whole old or a whole
//    new secret. The ClientRequestToken is derived from the last VersionId this object read and
//    the new content, so two writers that refreshed from the same version (the server's grace
//    replay gives them identical answers) write one version, and a repeated put is a no-op.
//  - lock(): the optional local OFD lock (see lock_path), then a claim held in the secret itself,
//    so that hosts sharing nothing but the secret refresh once per rotation: a version with the
//    staging label MOMENTO_REFRESH_CLAIM whose ClientRequestToken is derived from the AWSCURRENT
//    VersionId. Secrets Manager accepts one content per ClientRequestToken, so exactly one host
//    creates it; the others wait until AWSCURRENT moves (then re-read and adopt the new key), or
//    the claim is released, or it goes stale (its holder died: they take it over and replay the
//    holder's refresh, recorded in the claim, within the server's window). The claim carries no
//    secret: owner id, base version, key fingerprint, start time. See docs/refresh.md.
class SecretsManagerStore final : public TokenStore {
 public:
  explicit SecretsManagerStore(SecretsManagerOptions options);
  ~SecretsManagerStore() override;

  std::optional<StoredToken> load() override;
  void store(const TokenFile& token) override;
  std::unique_ptr<StoreLock> lock() override;
  std::optional<PendingRefresh> load_pending() override;
  void store_pending(const PendingRefresh& pending) override;
  void clear_pending() override;
  bool writable() const noexcept override { return true; }
  std::string describe() const override;

  // DescribeSecret: the version ids and their stages.
  std::map<std::string, std::vector<std::string>> describe_versions();
  // Creates the secret with an initial value (CreateSecret); for setup and tests.
  void create(const TokenFile& token);

  // One signed call; returns the parsed JSON answer text. Throws Error with the AWS error type
  // in the message (never the secret).
  std::string call(std::string_view action, const std::string& body);

 private:
  void release_claim() noexcept;  // see lock()
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::auth::aws
