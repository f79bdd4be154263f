// AWS credentials (the standard chain) and the Secrets Manager token store (SigV4 by libcurl).
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
  // Unix epoch seconds when temporary credentials expire; absent for long-term keys.
  std::optional<int64_t> expires_at;
};

// Where the credential chain looks besides the environment and the shared files. Defaults are
// the real AWS addresses; tests point them at loopback.
struct CredentialChainOptions {
  // ECS/EKS container credentials base for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
  std::string container_base = "http://169.254.170.2";
  // Instance metadata; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides it.
  std::string imds_endpoint = "http://169.254.169.254";
  // Temporary credentials are fetched again this long before they expire.
  std::chrono::seconds refresh_margin{300};
  std::chrono::milliseconds http_timeout{10000};   // STS, SSO portal, container endpoint
  std::chrono::milliseconds process_timeout{60000};  // credential_process
};

// The standard AWS credential chain, in the standard order, first source that applies wins:
//  1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN);
//  2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) through
//     STS AssumeRoleWithWebIdentity (EKS IRSA);
//  3. ECS / EKS Pod Identity container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
//     169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to loopback or the
//     ECS/EKS link-local hosts), with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN;
//  4. the profile (AWS_PROFILE, else "default") in AWS_SHARED_CREDENTIALS_FILE
//     (~/.aws/credentials) and AWS_CONFIG_FILE (~/.aws/config): role_arn with source_profile,
//     credential_source or web_identity_token_file (STS AssumeRole); sso_session / sso_start_url
//     (the SSO token cache ~/.aws/sso/cache/<sha1>.json and the portal's GetRoleCredentials);
//     static keys; credential_process (JSON Version 1 on stdout; no shell);
//  5. EC2 instance metadata, IMDSv2 only (token PUT first), unless AWS_EC2_METADATA_DISABLED
//     is "true"; AWS_METADATA_SERVICE_TIMEOUT / _NUM_ATTEMPTS bound it (default 1 s, 1 try).
// A profile named explicitly skips 1-3 and 5. STS and SSO endpoints honour
// AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL.
//
// Thread-safe. Temporary credentials are cached and fetched again `refresh_margin` before they
// expire; if that fetch fails while the cached ones are still valid, those are used. Errors name
// the source and what failed, never a key, token or response body.
class CredentialProvider {
 public:
  explicit CredentialProvider(std::string profile = {}, CredentialChainOptions options = {});
  ~CredentialProvider();
  CredentialProvider(const CredentialProvider&) = delete;
  CredentialProvider& operator=(const CredentialProvider&) = delete;

  Credentials get();
  // Which source the chain chose ("environment", "web identity", "container", "profile dev
  // (credential_process)", "profile dev (sso)", "instance metadata"...); empty before get().
  std::string source() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot: CredentialProvider(profile).get(). Throws Error(InvalidArgument) naming what was
// looked at when no source applies.
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

// An endpoint override (an argument or AWS_ENDPOINT_URL*) is an http:// or https:// URL, or a
// bare host[:port], which means https://. Throws InvalidArgument naming `name` for any other
// scheme. Empty = no override.
void check_endpoint_url(std::string_view url, std::string_view name);

struct SecretsManagerOptions {
  std::string secret_id;  // name or ARN; required
  std::string region;     // see resolve_region
  std::string profile;    // see CredentialProvider
  std::string endpoint;   // see resolve_endpoint
  std::optional<Credentials> credentials;  // explicit credentials instead of the chain
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

  std::optional<StoreSnapshot> load() override;
  void store(const Token& token) override;
  std::unique_ptr<StoreLock> lock() override;
  std::optional<PendingRefresh> load_pending() override;
  void store_pending(const PendingRefresh& pending) override;
  void clear_pending() override;
  std::string journal_path() const override;
  bool writable() const noexcept override { return true; }
  std::string describe() const override;

  // DescribeSecret: the version ids and their stages.
  std::map<std::string, std::vector<std::string>> describe_versions();
  // Creates the secret with an initial value (CreateSecret); for setup and tests.
  void create(const Token& token);

  // One signed call; returns the parsed JSON answer text. Throws Error with the AWS error type
  // in the message (never the secret).
  std::string call(std::string_view action, const std::string& body);

 private:
  void release_claim() noexcept;  // see lock()
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::auth::aws
