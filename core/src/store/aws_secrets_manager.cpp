// SecretsManagerStore: GetSecretValue / PutSecretValue / DescribeSecret / CreateSecret over libcurl.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include <unistd.h>

#include "aws_internal.hpp"
#include "internal.hpp"
#include "../util/secret_json.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::aws {
namespace {

// A UUID-shaped request token (Secrets Manager wants 32-64 characters) derived from `seed`.
std::string request_token(std::string_view seed) {
  std::string h = detail::hex(detail::sha256(seed)).substr(0, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

// The optional same-host lock, then the claim in the secret (released by `release`).
class ClaimLock final : public StoreLock {
 public:
  ClaimLock(std::unique_ptr<detail::OfdLock> local, std::function<void()> release)
      : local_(std::move(local)), release_(std::move(release)) {}
  ~ClaimLock() override {
    if (release_) release_();
  }

 private:
  std::unique_ptr<detail::OfdLock> local_;
  std::function<void()> release_;
};

constexpr const char* kClaimStage = "MOMENTO_REFRESH_CLAIM";

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "<host>:<pid>:<random>": unique per store object, and tells an operator (or a test) which
// process holds a claim.
std::string random_owner() {
  std::random_device rd;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, ":%ld:%08x%08x", static_cast<long>(::getpid()), static_cast<unsigned>(rd()),
                static_cast<unsigned>(rd()));
  return std::string(host).substr(0, 64) + buf;
}

struct Claim {
  std::string owner;
  std::string key_fingerprint;
  int64_t started_ms = 0;  // when the first claim of this chain was made (what a replay needs)
  int64_t claimed_ms = 0;  // when this claim was made (what staleness is measured from)
  bool live = false;       // still carries the claim label
};

}  // namespace

struct SecretsManagerStore::Impl {
  SecretsManagerOptions opt;
  std::string region;
  std::string endpoint;
  std::mutex m;
  std::string last_version;  // VersionId seen by the last load()
  TokenJson last_shape;      // the shape of the secret the last load() read: store() keeps it
  std::unique_ptr<CredentialProvider> chain;  // when no explicit credentials; caches and refreshes

  Credentials credentials() { return opt.credentials ? *opt.credentials : chain->get(); }
  std::string owner = random_owner();     // names this object's claims
  // The claim held (empty: none), and whether a refresh under it is outstanding (journal
  // written, answer not stored): such a claim is left in place on release, so that whoever
  // takes it over replays that refresh instead of sending a new one.
  std::string claim_id;
  bool claim_outstanding = false;
  std::optional<PendingRefresh> inherited;  // the refresh of a dead holder whose claim we took
};

SecretsManagerStore::SecretsManagerStore(SecretsManagerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.secret_id.empty()) throw_invalid("aws-sm store: secret id is empty");
  if (options.timeout.count() <= 0) throw_invalid("aws-sm store: timeout must be positive");
  impl_->region = resolve_region(options.region, options.profile);
  impl_->endpoint = resolve_endpoint(options.endpoint, impl_->region, options.profile);
  if (!options.credentials) {
    impl_->chain = std::make_unique<CredentialProvider>(options.profile);
    impl_->chain->get();  // no credentials anywhere: fail now, not at the first refresh
  }
  impl_->opt = std::move(options);
}

SecretsManagerStore::~SecretsManagerStore() = default;

std::string SecretsManagerStore::describe() const {
  return "aws-sm:" + impl_->opt.secret_id + " (" + impl_->region + ")";
}

std::string SecretsManagerStore::call(std::string_view action, const std::string& body) {
  impl::HttpCall req;
  req.url = impl_->endpoint + "/";
  req.headers = {"Content-Type: application/x-amz-json-1.1",
                 "X-Amz-Target: secretsmanager." + std::string(action)};
  req.body = body;
  req.timeout = impl_->opt.timeout;
  req.ca_file = impl_->opt.ca_file;
  const Credentials creds = impl_->credentials();
  req.sign = &creds;
  req.region = impl_->region;
  req.service = "secretsmanager";
  impl::HttpResponse resp = impl::http_call(req, "Secrets Manager");
  wipe(req.body);
  if (resp.status == 200) return std::move(resp.body);
  impl::AwsError e = impl::aws_error_of(resp.body);
  wipe(resp.body);
  throw Error(impl::code_for(resp.status, e.code),
              "Secrets Manager " + std::string(action) + " on " + impl_->opt.secret_id +
                  " failed: HTTP " + std::to_string(resp.status) + (e.code.empty() ? "" : " " + e.code) +
                  (e.message.empty() ? "" : ": " + e.message));
}

StoreSnapshot parse_secret_value(std::string_view answer, const std::string& secret_id,
                                 TokenJson* shape) {
  const detail::SecretJson j = detail::parse_secret_json(answer);  // SecretString holds the key
  if (!j.is_object()) throw Error(ErrorCode::Unknown, "GetSecretValue: answer is not a JSON object");
  auto secret = j.find("SecretString");
  if (secret == j.end() || !secret->is_string())
    throw Error(ErrorCode::FailedPrecondition,
                "secret " + secret_id + " has no SecretString (binary secrets are not supported)");
  StoreSnapshot out;
  out.token = parse_token_file_json(secret->get_ref<const detail::SecretJson::string_t&>(), shape);
  if (auto v = j.find("VersionId"); v != j.end() && v->is_string()) out.version = v->get<std::string>();
  // Epoch seconds with a fraction. The refresher dates the key from it, so a time outside
  // 1970..9999 means a broken answer, not a key written then.
  if (auto c = j.find("CreatedDate"); c != j.end()) {
    constexpr double kYear9999 = 253402300799.0;
    const double s = c->is_number() ? c->get<double>() : -1.0;
    if (!(s >= 0 && s <= kYear9999))
      throw Error(ErrorCode::Unknown, "GetSecretValue: CreatedDate is not a time between 1970 and 9999");
    out.written_at_ms = static_cast<int64_t>(std::llround(s * 1000.0));
  }
  return out;
}

std::optional<StoreSnapshot> SecretsManagerStore::load() {
  nlohmann::json req{{"SecretId", impl_->opt.secret_id}, {"VersionStage", "AWSCURRENT"}};
  std::string text;
  try {
    text = call("GetSecretValue", req.dump());
  } catch (const Error& e) {
    if (e.code() == ErrorCode::NotFound) return std::nullopt;
    throw;
  }
  TokenJson shape;
  StoreSnapshot out = [&] {
    try {
      return parse_secret_value(text, impl_->opt.secret_id, &shape);
    } catch (...) {
      wipe(text);
      throw;
    }
  }();
  wipe(text);
  std::lock_guard<std::mutex> g(impl_->m);
  impl_->last_version = out.version;
  impl_->last_shape = std::move(shape);
  return out;
}

void SecretsManagerStore::store(const Token& token) {
  if (token.api_key.empty()) throw_invalid("aws-sm store: authToken is empty");
  std::string base;
  TokenJson shape;
  {
    std::lock_guard<std::mutex> g(impl_->m);
    base = impl_->last_version;
    shape = impl_->last_shape;
  }
  std::string json = token_file_json(token, shape);
  // Same base version + same content => same token => Secrets Manager keeps a single version.
  std::string rtok = request_token(base + "\n" + json);
  detail::SecretJson req{{"SecretId", impl_->opt.secret_id},
                     {"SecretString", json},
                     {"ClientRequestToken", rtok},
                     {"VersionStages", {"AWSCURRENT"}}};
  wipe(json);
  std::string body(req.dump());
  std::string answer;
  try {
    answer = call("PutSecretValue", body);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::NotFound) {
      wipe(body);
      throw;
    }
    // First write: create the secret with this value.
    auto create_req = detail::parse_secret_json(body);
    wipe(body);
    create_req.erase("SecretId");
    create_req.erase("VersionStages");
    create_req["Name"] = impl_->opt.secret_id;
    body = create_req.dump();
    answer = call("CreateSecret", body);
  }
  wipe(body);
  auto j = nlohmann::json::parse(answer, nullptr, false);
  std::lock_guard<std::mutex> g(impl_->m);
  if (j.is_object() && j.contains("VersionId") && j["VersionId"].is_string())
    impl_->last_version = j["VersionId"].get<std::string>();
}

void SecretsManagerStore::create(const Token& token) {
  if (token.api_key.empty()) throw_invalid("aws-sm store: authToken is empty");
  std::string json = token_file_json(token);
  detail::SecretJson req{{"Name", impl_->opt.secret_id}, {"SecretString", json}};
  wipe(json);
  std::string body(req.dump());
  try {
    call("CreateSecret", body);
  } catch (...) {
    wipe(body);
    throw;
  }
  wipe(body);
}

std::map<std::string, std::vector<std::string>> SecretsManagerStore::describe_versions() {
  nlohmann::json req{{"SecretId", impl_->opt.secret_id}};
  auto j = nlohmann::json::parse(call("DescribeSecret", req.dump()), nullptr, false);
  std::map<std::string, std::vector<std::string>> out;
  if (j.is_object() && j.contains("VersionIdsToStages") && j["VersionIdsToStages"].is_object())
    for (auto& [id, stages] : j["VersionIdsToStages"].items())
      if (stages.is_array())
        for (auto& s : stages)
          if (s.is_string()) out[id].push_back(s.get<std::string>());
  return out;
}

namespace {

// A claim from its GetSecretValue answer; anything else reads as a released claim. The version
// the claim's stage names may hold the token file itself: read as secret JSON, the answer wiped.
Claim parse_claim(std::string answer) {
  using detail::SecretJson;
  const SecretJson j = detail::parse_secret_json(answer);
  wipe(answer);
  Claim c;
  if (!j.is_object()) return c;
  if (j.contains("VersionStages") && j["VersionStages"].is_array())
    for (auto& st : j["VersionStages"])
      if (st == kClaimStage) c.live = true;
  if (!j.contains("SecretString") || !j["SecretString"].is_string()) return c;
  const SecretJson body = detail::parse_secret_json(j["SecretString"].get_ref<const SecretJson::string_t&>());
  if (!body.is_object() || !body.contains("momentoRefreshClaim") || !body["momentoRefreshClaim"].is_object())
    return c;  // not a claim: treated as a released one
  const auto& m = body["momentoRefreshClaim"];
  auto str = [&](const char* k) {
    return m.contains(k) && m[k].is_string() ? std::string(m[k].get_ref<const SecretJson::string_t&>()) : "";
  };
  auto num = [&](const char* k) { return m.contains(k) && m[k].is_number_integer() ? m[k].get<int64_t>() : 0; };
  c.owner = str("owner");
  c.key_fingerprint = str("keyFingerprint");
  c.started_ms = num("startedAtMs");
  c.claimed_ms = num("claimedAtMs");
  return c;
}

}  // namespace

std::unique_ptr<StoreLock> SecretsManagerStore::lock() {
  std::unique_ptr<detail::OfdLock> local;
  if (!impl_->opt.lock_path.empty()) local = std::make_unique<detail::OfdLock>(impl_->opt.lock_path);
  std::string seen;  // the version the caller decided on, when it read the store before
  {
    std::lock_guard<std::mutex> g(impl_->m);
    seen = impl_->last_version;
  }
  const std::optional<StoreSnapshot> cur = load();
  if (!cur || cur->version.empty()) return std::make_unique<ClaimLock>(std::move(local), nullptr);
  // A peer rotated since the caller looked: it re-reads and adopts; a claim would go unused.
  if (!seen.empty() && cur->version != seen) return std::make_unique<ClaimLock>(std::move(local), nullptr);
  const std::string base = cur->version;
  const std::string fp = token_fingerprint(cur->token.api_key.reveal());
  const int64_t stale_ms = impl_->opt.claim_stale_after.count();
  // Bounded: a live holder finishes, releases or goes stale within stale_after.
  const auto give_up = std::chrono::steady_clock::now() + impl_->opt.claim_stale_after * 2 + std::chrono::seconds(5);

  auto hold = [&](const std::string& id, std::optional<PendingRefresh> inherit) {
    {
      std::lock_guard<std::mutex> g(impl_->m);
      impl_->claim_id = id;
      impl_->claim_outstanding = inherit.has_value();
      impl_->inherited = std::move(inherit);
    }
    return std::make_unique<ClaimLock>(std::move(local), [this] { release_claim(); });
  };

  // Claim ids chain from the base version: a released or stale claim passes on to the next id,
  // so each id is won by exactly one writer.
  std::string id = request_token("claim\n" + base);
  int64_t origin = now_ms();
  std::optional<PendingRefresh> inherit;
  for (int hops = 0; hops < 64;) {
    nlohmann::json content{{"momentoRefreshClaim",
                            {{"owner", impl_->owner}, {"base", base}, {"keyFingerprint", fp},
                             {"startedAtMs", origin}, {"claimedAtMs", now_ms()}}}};
    nlohmann::json req{{"SecretId", impl_->opt.secret_id},
                       {"ClientRequestToken", id},
                       {"SecretString", content.dump()},
                       {"VersionStages", {kClaimStage}}};
    try {
      call("PutSecretValue", req.dump());
      return hold(id, inherit);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::AlreadyExists) throw;
    }
    const Claim c = parse_claim(call("GetSecretValue", nlohmann::json{{"SecretId", impl_->opt.secret_id},
                                                                      {"VersionId", id}}.dump()));
    if (c.owner == impl_->owner) return hold(id, inherit);  // ours: an earlier answer was lost
    if (!c.live) {  // released by its holder
      id = request_token("claim\n" + id);
      ++hops;
      continue;
    }
    if (now_ms() - c.claimed_ms >= stale_ms) {
      // Its holder is presumed dead, possibly after sending the refresh: take over and replay.
      origin = std::min(origin, c.started_ms);
      inherit = PendingRefresh{c.key_fingerprint, c.started_ms};
      id = request_token("claim\n" + id);
      ++hops;
      continue;
    }
    if (std::chrono::steady_clock::now() > give_up)
      throw Error(ErrorCode::ServerUnavailable,
                  "another refresher holds the refresh claim on " + impl_->opt.secret_id + " and has not finished");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const std::optional<StoreSnapshot> now = load();
    // Rotated by the holder: no claim needed, the caller re-reads and adopts the new key.
    if (now && now->version != base) return std::make_unique<ClaimLock>(std::move(local), nullptr);
  }
  throw Error(ErrorCode::FailedPrecondition, "too many abandoned refresh claims on " + impl_->opt.secret_id);
}


void SecretsManagerStore::release_claim() noexcept {
  std::string id;
  {
    std::lock_guard<std::mutex> g(impl_->m);
    id.swap(impl_->claim_id);
    if (impl_->claim_outstanding || id.empty()) return;  // left as the journal of a refresh in flight
  }
  try {
    nlohmann::json req{{"SecretId", impl_->opt.secret_id}, {"VersionStage", kClaimStage}, {"RemoveFromVersionId", id}};
    call("UpdateSecretVersionStage", req.dump());
  } catch (...) {
    // Unreleased, the claim goes stale and is taken over; nothing was outstanding under it.
  }
}

std::string SecretsManagerStore::journal_path() const { return impl_->opt.journal_path; }

std::optional<PendingRefresh> SecretsManagerStore::load_pending() {
  std::optional<PendingRefresh> p = TokenStore::load_pending();
  std::lock_guard<std::mutex> g(impl_->m);
  return p ? p : impl_->inherited;  // a dead holder's refresh, from its claim
}

void SecretsManagerStore::store_pending(const PendingRefresh& p) {
  TokenStore::store_pending(p);
  std::lock_guard<std::mutex> g(impl_->m);
  if (!impl_->claim_id.empty()) impl_->claim_outstanding = true;
}

void SecretsManagerStore::clear_pending() {
  TokenStore::clear_pending();
  std::lock_guard<std::mutex> g(impl_->m);
  impl_->inherited.reset();
  impl_->claim_outstanding = false;
}

}  // namespace momento::auth::aws
