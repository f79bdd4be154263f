#include "server.hpp"

#include "crypto.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "auth.grpc.pb.h"
#include "authz.hpp"
#include "cacheclient.grpc.pb.h"
#include "cacheping.grpc.pb.h"
#include "controlclient.grpc.pb.h"
#include "dataplane.hpp"
#include "faults.hpp"
#include "momento/auth/scope.hpp"
#include "momento/auth/secret.hpp"
#include "token.grpc.pb.h"

namespace momento::server {

using grpc::Status;
using grpc::StatusCode;

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string metadata(const grpc::ServerContext* ctx, const char* name) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(name);
  if (it == md.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

[[noreturn]] void invalid(const std::string& m) { throw ServiceError(StatusCode::INVALID_ARGUMENT, m); }
[[noreturn]] void denied() { throw ServiceError(StatusCode::PERMISSION_DENIED, kInsufficient); }

constexpr uint64_t kMaxTtlMs = uint64_t{365} * 24 * 3600 * 1000;  // one year

// Responses carrying a key or a refresh token are wiped once gRPC has serialized them.
template <class R>
void wipe_response(R& r) {
  if constexpr (requires { r.mutable_api_key(); }) momento::auth::wipe(*r.mutable_api_key());
  if constexpr (requires { r.mutable_refresh_token(); }) momento::auth::wipe(*r.mutable_refresh_token());
}

}  // namespace

// Every RPC of every package, behind the generated services below. They are registered as
// "streamed unary" methods so that this class reads the request itself: an undecodable request
// gets INVALID_ARGUMENT (a plain generated handler would answer INTERNAL).
class Handlers {
 public:
  Handlers(Registry& reg, Logger& log, const ServerOptions& opts)
      : reg_(reg), log_(log), opts_(opts), max_delayed_(std::max(1, opts.threads / 4)) {
    for (const auto& c : reg_.store().list_caches()) data_.add_cache(c.name);
  }

  template <class Req, class Resp>
  using Handler = void (Handlers::*)(grpc::ServerContext*, Req&, Resp&, CallRecord&);

  template <class Req, class Resp>
  Status run(const char* path, Handler<Req, Resp> h, grpc::ServerContext* ctx,
             grpc::ServerUnaryStreamer<Req, Resp>* stream) {
    const auto start = std::chrono::steady_clock::now();
    CallRecord rec;
    rec.method = path;
    rec.wanted = log_.enabled();
    if (rec.wanted) rec.peer = ctx->peer();
    rec.caller = "-";
    Req req;
    Resp resp;
    Status st;
    try {
      if (!stream->Read(&req))
        invalid("malformed request: not a valid " + req.GetTypeName() + " message");
      FaultPlan plan = faults(ctx, req, path);
      rec.fault = plan.describe();
      if (plan.error) throw ServiceError(*plan.error, "injected fault");
      (this->*h)(ctx, req, resp, rec);
      if (plan.after_commit) throw ServiceError(*plan.after_commit, "injected fault after commit");
      st = stream->Write(resp) ? Status::OK : Status(StatusCode::CANCELLED, "the caller went away");
    } catch (const ServiceError& e) {
      st = e.status();
    } catch (...) {
      // Anything else escaping a handler is our fault: INTERNAL, never gRPC's UNKNOWN.
      st = Status(StatusCode::INTERNAL, "internal error");
    }
    wipe_response(req);
    wipe_response(resp);
    rec.status = status_code_name(st.error_code());
    rec.message = st.error_message();
    rec.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log_.call(rec);
    return st;
  }

  // ---- auth.Auth / token.Token: credential from the body only (docs/wire.md §3.3) ----

  void generate_api_token(grpc::ServerContext*, ::auth::_GenerateApiTokenRequest& req,
                          ::auth::_GenerateApiTokenResponse& resp, CallRecord& rec) {
    note_caller(rec, req.auth_token(), nullptr);
    Minted m = reg_.generate_api_key(req);
    rec.detail = "minted=" + m.key_id;
    resp.set_api_key(std::move(m.api_key));
    resp.set_refresh_token(std::move(m.refresh_token));
    resp.set_endpoint(m.endpoint);
    resp.set_valid_until(m.valid_until);
  }

  void refresh_api_token(grpc::ServerContext* ctx, ::auth::_RefreshApiTokenRequest& req,
                         ::auth::_RefreshApiTokenResponse& resp, CallRecord& rec) {
    note_caller(rec, req.api_key(), nullptr);
    Minted m = reg_.refresh_api_key(req.api_key(), req.refresh_token(), [ctx] {
      return ctx->IsCancelled() || std::chrono::system_clock::now() > ctx->deadline();
    });
    rec.detail = "minted=" + m.key_id;
    resp.set_api_key(std::move(m.api_key));
    resp.set_refresh_token(std::move(m.refresh_token));
    resp.set_endpoint(m.endpoint);
    resp.set_valid_until(m.valid_until);
  }

  void generate_disposable_token(grpc::ServerContext*, ::token::_GenerateDisposableTokenRequest& req,
                                 ::token::_GenerateDisposableTokenResponse& resp, CallRecord& rec) {
    note_caller(rec, req.auth_token(), nullptr);
    Minted m = reg_.generate_disposable_token(req);
    rec.detail = "minted=" + m.key_id;
    resp.set_api_key(std::move(m.api_key));
    resp.set_endpoint(m.endpoint);
    resp.set_valid_until(m.valid_until);
  }

  // ---- control and data plane: credential from `authorization` ----

  void create_cache(grpc::ServerContext* ctx, control_client::_CreateCacheRequest& req,
                    control_client::_CreateCacheResponse&, CallRecord& rec) {
    control(ctx, req.cache_name(), Operation::CreateCache, rec);
    if (!reg_.store().insert_cache({req.cache_name(), reg_.now()}))
      throw ServiceError(StatusCode::ALREADY_EXISTS, "cache already exists: " + req.cache_name());
    data_.add_cache(req.cache_name());
  }

  void delete_cache(grpc::ServerContext* ctx, control_client::_DeleteCacheRequest& req,
                    control_client::_DeleteCacheResponse&, CallRecord& rec) {
    control(ctx, req.cache_name(), Operation::DeleteCache, rec);
    if (!reg_.store().delete_cache(req.cache_name()))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + req.cache_name());
    data_.remove_cache(req.cache_name());
  }

  void flush_cache(grpc::ServerContext* ctx, control_client::_FlushCacheRequest& req,
                   control_client::_FlushCacheResponse&, CallRecord& rec) {
    control(ctx, req.cache_name(), Operation::FlushCache, rec);
    if (!reg_.store().cache_exists(req.cache_name()) || !data_.flush(req.cache_name()))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + req.cache_name());
  }

  void list_caches(grpc::ServerContext* ctx, control_client::_ListCachesRequest& req,
                   control_client::_ListCachesResponse& resp, CallRecord& rec) {
    PrincipalRef p = authenticate(ctx, rec);
    if (!allowed(p->caller(), Operation::ListCaches)) denied();
    auto caches = reg_.store().list_caches();  // sorted by name
    // Paging: next_token is the last name of the previous page (names are unique, sorted).
    size_t n = 0;
    for (const auto& c : caches) {
      if (!req.next_token().empty() && c.name <= req.next_token()) continue;
      if (opts_.list_page_size > 0 && n == opts_.list_page_size) {
        resp.set_next_token(resp.cache(resp.cache_size() - 1).cache_name());
        break;
      }
      resp.add_cache()->set_cache_name(c.name);
      ++n;
    }
  }

  void get(grpc::ServerContext* ctx, cache_client::_GetRequest& req, cache_client::_GetResponse& resp,
           CallRecord& rec) {
    auto d = data_call(ctx, req.cache_key(), rec);
    if (!allowed(d.p->caller(), Operation::Read, d.cache, req.cache_key())) denied();
    auto r = data_.get(d.cache, req.cache_key(), steady_ms());
    if (!r) throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + d.cache);
    if (*r) {
      resp.set_result(cache_client::Hit);
      resp.set_cache_body(std::move(**r));
    } else {
      resp.set_result(cache_client::Miss);
    }
  }

  void set(grpc::ServerContext* ctx, cache_client::_SetRequest& req, cache_client::_SetResponse& resp,
           CallRecord& rec) {
    auto d = data_call(ctx, req.cache_key(), rec);
    if (req.ttl_milliseconds() == 0) invalid("ttl_milliseconds must be positive");
    if (!allowed(d.p->caller(), Operation::Write, d.cache, req.cache_key())) denied();
    uint64_t ttl = std::min<uint64_t>(req.ttl_milliseconds(), kMaxTtlMs);
    if (!data_.set(d.cache, req.cache_key(), std::move(*req.mutable_cache_body()), steady_ms(),
                   static_cast<int64_t>(ttl)))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + d.cache);
    resp.set_result(cache_client::Ok);
  }

  void del(grpc::ServerContext* ctx, cache_client::_DeleteRequest& req, cache_client::_DeleteResponse&,
           CallRecord& rec) {
    auto d = data_call(ctx, req.cache_key(), rec);
    if (!allowed(d.p->caller(), Operation::Write, d.cache, req.cache_key())) denied();
    if (!data_.erase(d.cache, req.cache_key()))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + d.cache);
  }

  void ping(grpc::ServerContext*, cache_client::_PingRequest&, cache_client::_PingResponse&, CallRecord&) {}

 private:
  // Fault injection (--enable-faults only): honoured for a caller whose key the server accepts
  // (the body key of auth.Auth and token.Token calls, `authorization` otherwise), checked before
  // anything else; at most max_delayed_ delayed calls at a time, so real callers keep threads.
  template <class Req>
  FaultPlan faults(grpc::ServerContext* ctx, const Req& req, const char* path) {
    if (!opts_.enable_faults || !Faults::requested(ctx->client_metadata())) return {};
    try {
      if constexpr (requires { req.auth_token(); }) reg_.authenticate(req.auth_token());
      else if constexpr (requires { req.api_key(); }) reg_.authenticate(req.api_key());
      else {
        std::string raw = metadata(ctx, "authorization");
        reg_.authenticate_header(raw);
        momento::auth::wipe(raw);
      }
    } catch (const ServiceError&) {
      return {};  // not authenticated: the call runs, and fails, as it would without headers
    }
    FaultPlan plan = faults_.plan(ctx->client_metadata(), path);
    if (plan.delay.count() > 0) {
      if (delayed_.fetch_add(1) >= max_delayed_) {
        delayed_.fetch_sub(1);
        throw ServiceError(StatusCode::RESOURCE_EXHAUSTED,
                           "too many delayed calls in flight (fault injection)");
      }
      sleep_unless_cancelled(ctx, plan.delay);
      delayed_.fetch_sub(1);
    }
    return plan;
  }

  static void sleep_unless_cancelled(grpc::ServerContext* ctx, std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until && !ctx->IsCancelled())
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(20), until - std::chrono::steady_clock::now()));
  }

  static void note_caller(CallRecord& rec, std::string_view raw, const Principal* p) {
    if (!rec.wanted) return;
    if (!p) rec.caller = raw.empty() ? "<empty>" : momento::auth::redact(raw);
    else rec.key_id = p->key_id;
  }

  PrincipalRef authenticate(grpc::ServerContext* ctx, CallRecord& rec) {
    std::string raw = metadata(ctx, "authorization");
    note_caller(rec, raw, nullptr);
    PrincipalRef p = reg_.authenticate_header(raw);
    note_caller(rec, raw, p.get());
    momento::auth::wipe(raw);
    return p;
  }

  void control(grpc::ServerContext* ctx, const std::string& name, Operation op, CallRecord& rec) {
    PrincipalRef p = authenticate(ctx, rec);
    if (auto err = momento::auth::name_problem(name, "cache name")) invalid(*err);
    if (!allowed(p->caller(), op)) denied();
    rec.detail = "cache=" + name;
  }

  // Data calls: authenticate -> validate -> authorize -> existence (docs/wire.md §9.4).
  struct DataCall {
    PrincipalRef p;
    std::string cache;
  };
  DataCall data_call(grpc::ServerContext* ctx, const std::string& key, CallRecord& rec) {
    DataCall d{authenticate(ctx, rec), metadata(ctx, "cache")};
    if (d.cache.empty()) invalid("the cache header is missing or empty");
    if (key.empty()) invalid("cache_key must not be empty");
    if (key.size() > momento::auth::kMaxItemKeyBytes) invalid("cache_key is larger than 64 KiB");
    rec.detail = "cache=" + d.cache;
    return d;
  }

  Registry& reg_;
  Logger& log_;
  const ServerOptions& opts_;
  Faults faults_;
  DataPlane data_;
  const int max_delayed_;
  std::atomic<int> delayed_{0};
};

namespace {

// The generated services, each method handed to Handlers::run with its handler.
#define MOMENTO_RPC(PKG, SVC, NAME, HANDLER)                                                  \
  Status Streamed##NAME(grpc::ServerContext* ctx, grpc::ServerUnaryStreamer<::PKG::_##NAME##Request, \
                                                    ::PKG::_##NAME##Response>* s) override {  \
    return svc_.run("/" #PKG "." #SVC "/" #NAME, &Handlers::HANDLER, ctx, s);                \
  }

class AuthRpcs final : public ::auth::Auth::StreamedUnaryService {
 public:
  explicit AuthRpcs(Handlers& h) : svc_(h) {}
  MOMENTO_RPC(auth, Auth, GenerateApiToken, generate_api_token)
  MOMENTO_RPC(auth, Auth, RefreshApiToken, refresh_api_token)
 private:
  Handlers& svc_;
};

class TokenRpcs final : public ::token::Token::StreamedUnaryService {
 public:
  explicit TokenRpcs(Handlers& h) : svc_(h) {}
  MOMENTO_RPC(token, Token, GenerateDisposableToken, generate_disposable_token)
 private:
  Handlers& svc_;
};

class ControlRpcs final : public ::control_client::ScsControl::StreamedUnaryService {
 public:
  explicit ControlRpcs(Handlers& h) : svc_(h) {}
  MOMENTO_RPC(control_client, ScsControl, CreateCache, create_cache)
  MOMENTO_RPC(control_client, ScsControl, DeleteCache, delete_cache)
  MOMENTO_RPC(control_client, ScsControl, ListCaches, list_caches)
  MOMENTO_RPC(control_client, ScsControl, FlushCache, flush_cache)
 private:
  Handlers& svc_;
};

class CacheRpcs final : public ::cache_client::Scs::StreamedUnaryService {
 public:
  explicit CacheRpcs(Handlers& h) : svc_(h) {}
  MOMENTO_RPC(cache_client, Scs, Get, get)
  MOMENTO_RPC(cache_client, Scs, Set, set)
  MOMENTO_RPC(cache_client, Scs, Delete, del)
 private:
  Handlers& svc_;
};

class PingRpcs final : public ::cache_client::Ping::StreamedUnaryService {
 public:
  explicit PingRpcs(Handlers& h) : svc_(h) {}
  MOMENTO_RPC(cache_client, Ping, Ping, ping)
 private:
  Handlers& svc_;
};

#undef MOMENTO_RPC

}  // namespace

AuthServer::AuthServer(ServerOptions opts) : opts_(std::move(opts)) {
  if (opts_.data_dir.empty()) throw std::invalid_argument("--data-dir is required");
  if (opts_.threads < 2) throw std::invalid_argument("--threads must be at least 2");
  if (opts_.tls_cert.empty() != opts_.tls_key.empty())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  if (!opts_.tls_key.empty()) check_private_key_file(opts_.tls_key, opts_.registry.allow_readable_keys);
  logger_ = std::make_unique<Logger>(opts_.log_format);
  registry_ = std::make_unique<Registry>(opts_.data_dir, opts_.registry);
  if (opts_.bootstrap) bootstrap_key_id_ = registry_->ensure_bootstrap(*opts_.bootstrap);
  service_ = std::make_unique<Handlers>(*registry_, *logger_, opts_);
  rpcs_.push_back(std::make_unique<AuthRpcs>(*service_));
  rpcs_.push_back(std::make_unique<TokenRpcs>(*service_));
  rpcs_.push_back(std::make_unique<ControlRpcs>(*service_));
  rpcs_.push_back(std::make_unique<CacheRpcs>(*service_));
  rpcs_.push_back(std::make_unique<PingRpcs>(*service_));
}

AuthServer::~AuthServer() {
  shutdown();
}

Registry& AuthServer::registry() { return *registry_; }
Logger& AuthServer::logger() { return *logger_; }

static std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string AuthServer::start() {
  // Split host and port at the last ':' ("[::1]:0" keeps its brackets).
  auto colon = opts_.listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == opts_.listen.size())
    throw std::invalid_argument("--listen must be HOST:PORT");
  std::string host = opts_.listen.substr(0, colon);

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (opts_.tls_cert.empty()) {
    creds = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions ssl;
    std::string key = read_file(opts_.tls_key);
    ssl.pem_key_cert_pairs.push_back({key, read_file(opts_.tls_cert)});
    momento::auth::wipe(key);
    creds = grpc::SslServerCredentials(ssl);
  }

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(opts_.listen, creds, &port);
  for (auto& r : rpcs_) builder.RegisterService(r.get());
  builder.SetMaxReceiveMessageSize(opts_.max_message_bytes);
  // Bounded pool: gRPC's sync server never runs more handler threads than the quota allows.
  grpc::ResourceQuota quota("momento-auth-server");
  quota.SetMaxThreads(opts_.threads);
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(2, opts_.threads / 2));
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) throw std::runtime_error("cannot listen on " + opts_.listen);
  std::string addr = host + ":" + std::to_string(port);
  logger_->event("serving on " + addr + (opts_.tls_cert.empty() ? " (plaintext)" : " (TLS)") +
                 ", endpoint " + registry_->options().endpoint);
  return addr;
}

void AuthServer::shutdown() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    server_.reset();
  }
}

void AuthServer::wait() {
  if (server_) server_->Wait();
}

}  // namespace momento::server
