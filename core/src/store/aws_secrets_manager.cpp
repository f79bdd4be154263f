// SecretsManagerStore: GetSecretValue / PutSecretValue / DescribeSecret / CreateSecret over libcurl.
#include <curl/curl.h>

#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>

#include "internal.hpp"
#include "momento/auth/aws.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::aws {
namespace {

constexpr size_t kMaxResponse = 1024 * 1024;

void global_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t len = size * n;
  if (out->size() + len > kMaxResponse) return 0;  // aborts the transfer
  out->append(data, len);
  return len;
}

struct HttpResponse {
  long status = 0;
  std::string body;
};

HttpResponse perform(const HttpRequest& req, std::chrono::milliseconds timeout,
                     const std::string& ca_file) {
  global_curl_init();
  CURL* curl = curl_easy_init();
  if (!curl) throw Error(ErrorCode::ClientResourceExhausted, "curl_easy_init failed");
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // curl would add these unsigned; they are not needed.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Accept:");
  HttpResponse resp;
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(headers);  // the list holds the signed security token; freed right away
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    ErrorCode code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::Timeout : ErrorCode::Connection;
    throw Error(code, std::string("Secrets Manager request failed: ") + curl_easy_strerror(rc));
  }
  return resp;
}

ErrorCode code_for_aws_error(const std::string& type, long status) {
  auto has = [&](const char* s) { return type.find(s) != std::string::npos; };
  if (has("ResourceNotFound")) return ErrorCode::NotFound;
  if (has("ResourceExists")) return ErrorCode::AlreadyExists;
  if (has("AccessDenied")) return ErrorCode::Permission;
  if (has("UnrecognizedClient") || has("InvalidSignature") || has("ExpiredToken") ||
      has("IncompleteSignature") || has("SignatureDoesNotMatch"))
    return ErrorCode::Authentication;
  if (has("Throttling") || has("LimitExceeded")) return ErrorCode::LimitExceeded;
  if (has("InvalidParameter") || has("InvalidRequest") || has("Validation"))
    return ErrorCode::InvalidArgument;
  if (has("PreconditionNotMet") || has("EncryptionFailure") || has("DecryptionFailure"))
    return ErrorCode::FailedPrecondition;
  if (status >= 500) return ErrorCode::ServerUnavailable;
  return ErrorCode::Unknown;
}

// A UUID-shaped request token (Secrets Manager wants 32-64 characters) derived from `seed`.
std::string request_token(std::string_view seed) {
  std::string h = detail::hex(detail::sha256(seed)).substr(0, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

class LocalLock final : public StoreLock {
 public:
  explicit LocalLock(const std::string& p) : lock_(p) {}

 private:
  detail::OfdLock lock_;
};

}  // namespace

struct SecretsManagerStore::Impl {
  SecretsManagerOptions opt;
  std::string region;
  std::string endpoint;
  std::mutex m;
  std::string last_version;  // VersionId seen by the last load()
  std::optional<PendingRefresh> pending;  // in-memory journal when no journal_path
};

SecretsManagerStore::SecretsManagerStore(SecretsManagerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.secret_id.empty()) throw_invalid("aws-sm store: secret id is empty");
  if (options.timeout.count() <= 0) throw_invalid("aws-sm store: timeout must be positive");
  impl_->region = resolve_region(options.region, options.profile);
  impl_->endpoint = resolve_endpoint(options.endpoint, impl_->region);
  if (!options.credentials) options.credentials = resolve_credentials(options.profile);
  impl_->opt = std::move(options);
}

SecretsManagerStore::~SecretsManagerStore() = default;

std::string SecretsManagerStore::describe() const {
  return "aws-sm:" + impl_->opt.secret_id + " (" + impl_->region + ")";
}

std::string SecretsManagerStore::call(std::string_view action, const std::string& body) {
  HttpRequest req = secrets_manager_request(impl_->endpoint, action, body);
  sign_v4(req, *impl_->opt.credentials, impl_->region, "secretsmanager", amz_date(now_epoch_seconds()));
  HttpResponse resp = perform(req, impl_->opt.timeout, impl_->opt.ca_file);
  // The signed request carries the session token; wipe what we can.
  for (auto& h : req.headers) wipe(h.second);
  if (resp.status == 200) return std::move(resp.body);
  std::string type, message;
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("__type") && j["__type"].is_string()) type = j["__type"].get<std::string>();
    for (const char* k : {"message", "Message"})
      if (j.contains(k) && j[k].is_string()) message = j[k].get<std::string>();
  }
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  wipe(resp.body);
  if (message.size() > 300) message.resize(300);
  throw Error(code_for_aws_error(type, resp.status),
              "Secrets Manager " + std::string(action) + " on " + impl_->opt.secret_id +
                  " failed: HTTP " + std::to_string(resp.status) +
                  (type.empty() ? "" : " " + type) + (message.empty() ? "" : ": " + message));
}

StoredToken parse_secret_value(std::string_view answer, const std::string& secret_id) {
  auto j = nlohmann::json::parse(answer, nullptr, false);
  if (!j.is_object()) throw Error(ErrorCode::Unknown, "GetSecretValue: answer is not a JSON object");
  if (!j.contains("SecretString") || !j["SecretString"].is_string())
    throw Error(ErrorCode::FailedPrecondition,
                "secret " + secret_id + " has no SecretString (binary secrets are not supported)");
  StoredToken out;
  {
    std::string s = j["SecretString"].get<std::string>();
    wipe(j["SecretString"].get_ref<std::string&>());
    try {
      out.token = parse_token_file_json(s);
    } catch (...) {
      wipe(s);
      throw;
    }
    wipe(s);
  }
  if (j.contains("VersionId") && j["VersionId"].is_string()) out.version = j["VersionId"].get<std::string>();
  if (j.contains("CreatedDate") && j["CreatedDate"].is_number())
    out.written_at_ms = static_cast<int64_t>(std::llround(j["CreatedDate"].get<double>() * 1000.0));
  return out;
}

std::optional<StoredToken> SecretsManagerStore::load() {
  nlohmann::json req{{"SecretId", impl_->opt.secret_id}, {"VersionStage", "AWSCURRENT"}};
  std::string text;
  try {
    text = call("GetSecretValue", req.dump());
  } catch (const Error& e) {
    if (e.code() == ErrorCode::NotFound) return std::nullopt;
    throw;
  }
  StoredToken out = [&] {
    try {
      return parse_secret_value(text, impl_->opt.secret_id);
    } catch (...) {
      wipe(text);
      throw;
    }
  }();
  wipe(text);
  std::lock_guard<std::mutex> g(impl_->m);
  impl_->last_version = out.version;
  return out;
}

void SecretsManagerStore::store(const TokenFile& token) {
  if (token.auth_token.empty()) throw_invalid("aws-sm store: authToken is empty");
  std::string json = token_file_json(token);
  std::string base;
  {
    std::lock_guard<std::mutex> g(impl_->m);
    base = impl_->last_version;
  }
  // Same base version + same content => same token => Secrets Manager keeps a single version.
  std::string rtok = request_token(base + "\n" + json);
  nlohmann::json req{{"SecretId", impl_->opt.secret_id},
                     {"SecretString", json},
                     {"ClientRequestToken", rtok},
                     {"VersionStages", {"AWSCURRENT"}}};
  wipe(json);
  std::string body = req.dump();
  req["SecretString"] = "";
  std::string answer;
  try {
    answer = call("PutSecretValue", body);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::NotFound) {
      wipe(body);
      throw;
    }
    // First write: create the secret with this value.
    auto create_req = nlohmann::json::parse(body);
    wipe(body);
    create_req.erase("SecretId");
    create_req.erase("VersionStages");
    create_req["Name"] = impl_->opt.secret_id;
    body = create_req.dump();
    create_req["SecretString"] = "";
    answer = call("CreateSecret", body);
  }
  wipe(body);
  auto j = nlohmann::json::parse(answer, nullptr, false);
  std::lock_guard<std::mutex> g(impl_->m);
  if (j.is_object() && j.contains("VersionId") && j["VersionId"].is_string())
    impl_->last_version = j["VersionId"].get<std::string>();
}

void SecretsManagerStore::create(const TokenFile& token) {
  if (token.auth_token.empty()) throw_invalid("aws-sm store: authToken is empty");
  std::string json = token_file_json(token);
  nlohmann::json req{{"Name", impl_->opt.secret_id}, {"SecretString", json}};
  wipe(json);
  std::string body = req.dump();
  req["SecretString"] = "";
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

std::unique_ptr<StoreLock> SecretsManagerStore::lock() {
  if (impl_->opt.lock_path.empty()) return std::make_unique<StoreLock>();
  return std::make_unique<LocalLock>(impl_->opt.lock_path);
}

std::optional<PendingRefresh> SecretsManagerStore::load_pending() {
  if (!impl_->opt.journal_path.empty()) return detail::read_journal_file(impl_->opt.journal_path);
  std::lock_guard<std::mutex> g(impl_->m);
  return impl_->pending;
}

void SecretsManagerStore::store_pending(const PendingRefresh& p) {
  if (!impl_->opt.journal_path.empty()) return detail::write_journal_file(impl_->opt.journal_path, p);
  std::lock_guard<std::mutex> g(impl_->m);
  impl_->pending = p;
}

void SecretsManagerStore::clear_pending() {
  if (!impl_->opt.journal_path.empty()) return detail::remove_file_if_exists(impl_->opt.journal_path);
  std::lock_guard<std::mutex> g(impl_->m);
  impl_->pending.reset();
}

}  // namespace momento::auth::aws
