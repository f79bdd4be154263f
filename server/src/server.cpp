#include "server.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <chrono>
#include <fstream>
#include <list>
#include <sstream>
#include <thread>

#include "auth.pb.h"
#include "authz.hpp"
#include "cacheclient.pb.h"
#include "cacheping.pb.h"
#include "controlclient.pb.h"
#include "dataplane.hpp"
#include "faults.hpp"
#include "momento/auth/secret.hpp"
#include "token.pb.h"

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

bool parse(const grpc::ByteBuffer& in, google::protobuf::MessageLite* msg) {
  grpc::ByteBuffer copy(in);
  grpc::ProtoBufferReader reader(&copy);
  if (!reader.status().ok()) return false;
  return msg->ParseFromZeroCopyStream(&reader);
}

template <class M>
void serialize(const M& msg, grpc::ByteBuffer* out) {
  bool own = false;
  auto st = grpc::SerializationTraits<M>::Serialize(msg, out, &own);
  if (!st.ok()) throw ServiceError(StatusCode::INTERNAL, "failed to serialize the answer");
}

[[noreturn]] void invalid(const std::string& m) { throw ServiceError(StatusCode::INVALID_ARGUMENT, m); }
[[noreturn]] void denied() { throw ServiceError(StatusCode::PERMISSION_DENIED, kInsufficient); }

constexpr size_t kMaxCacheKeyBytes = 64 * 1024;
constexpr uint64_t kMaxTtlMs = uint64_t{365} * 24 * 3600 * 1000;  // one year

}  // namespace

// One grpc::Service carrying every RPC of every package, registered with raw byte buffers
// so that undecodable requests get INVALID_ARGUMENT (generated handlers would say INTERNAL).
class Service : public grpc::Service {
 public:
  using Handler = void (Service::*)(grpc::ServerContext*, const grpc::ByteBuffer&,
                                    grpc::ByteBuffer*, CallRecord&);

  Service(Registry& reg, Logger& log, const ServerOptions& opts)
      : reg_(reg), log_(log), opts_(opts) {
    add("/auth.Auth/GenerateApiToken", &Service::generate_api_token);
    add("/auth.Auth/RefreshApiToken", &Service::refresh_api_token);
    add("/token.Token/GenerateDisposableToken", &Service::generate_disposable_token);
    add("/control_client.ScsControl/CreateCache", &Service::create_cache);
    add("/control_client.ScsControl/DeleteCache", &Service::delete_cache);
    add("/control_client.ScsControl/ListCaches", &Service::list_caches);
    add("/control_client.ScsControl/FlushCache", &Service::flush_cache);
    add("/cache_client.Scs/Get", &Service::get);
    add("/cache_client.Scs/Set", &Service::set);
    add("/cache_client.Scs/Delete", &Service::del);
    add("/cache_client.Ping/Ping", &Service::ping);
    for (const auto& c : reg_.store().list_caches()) data_.add_cache(c.name);
  }

 private:
  void add(const char* path, Handler h) {
    paths_.push_back(path);
    const char* name = paths_.back().c_str();
    AddMethod(new grpc::internal::RpcServiceMethod(
        name, grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<Service, grpc::ByteBuffer, grpc::ByteBuffer>(
            [h, name](Service* self, grpc::ServerContext* ctx, const grpc::ByteBuffer* req,
                      grpc::ByteBuffer* resp) { return self->dispatch(name, h, ctx, req, resp); },
            this)));
  }

  Status dispatch(const char* path, Handler h, grpc::ServerContext* ctx,
                  const grpc::ByteBuffer* req, grpc::ByteBuffer* resp) {
    const auto start = std::chrono::steady_clock::now();
    CallRecord rec;
    rec.method = path;
    rec.wanted = log_.enabled();
    if (rec.wanted) rec.peer = ctx->peer();
    rec.caller = "-";
    FaultPlan plan = faults_.plan(ctx->client_metadata(), path);
    rec.fault = plan.describe();
    if (plan.delay.count() > 0) sleep_unless_cancelled(ctx, plan.delay);
    Status st;
    if (plan.error) {
      st = Status(*plan.error, "injected fault");
    } else {
      try {
        (this->*h)(ctx, *req, resp, rec);
        st = Status::OK;
      } catch (const ServiceError& e) {
        st = e.status();
      } catch (const std::exception&) {
        st = Status(StatusCode::INTERNAL, "internal error");
      }
      if (st.ok() && plan.after_commit) {
        *resp = grpc::ByteBuffer();
        st = Status(*plan.after_commit, "injected fault after commit");
      }
    }
    rec.status = status_code_name(st.error_code());
    rec.message = st.error_message();
    rec.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log_.call(rec);
    return st;
  }

  static void sleep_unless_cancelled(grpc::ServerContext* ctx, std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until && !ctx->IsCancelled())
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(20), until - std::chrono::steady_clock::now()));
  }

  template <class M>
  static M parse_or_throw(const grpc::ByteBuffer& in) {
    M msg;
    if (!parse(in, &msg)) invalid("malformed request: not a valid " + msg.GetTypeName() + " message");
    return msg;
  }

  static void note_caller(CallRecord& rec, std::string_view raw, const Principal* p) {
    if (!rec.wanted) return;
    if (!p) rec.caller = raw.empty() ? "<empty>" : momento::auth::redact(raw);
    else rec.key_id = p->key_id;
  }

  // ---- auth.Auth / token.Token: credential from the body only (docs/wire.md §3.3) ----

  void generate_api_token(grpc::ServerContext*, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
                          CallRecord& rec) {
    auto req = parse_or_throw<::auth::_GenerateApiTokenRequest>(in);
    note_caller(rec, req.auth_token(), nullptr);
    Minted m = reg_.generate_api_key(req);
    rec.detail = "minted=" + m.key_id;
    ::auth::_GenerateApiTokenResponse resp;
    resp.set_api_key(std::move(m.api_key));
    resp.set_refresh_token(std::move(m.refresh_token));
    resp.set_endpoint(m.endpoint);
    resp.set_valid_until(m.valid_until);
    serialize(resp, out);
    wipe_response(resp);
  }

  void refresh_api_token(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
                         CallRecord& rec) {
    auto req = parse_or_throw<::auth::_RefreshApiTokenRequest>(in);
    note_caller(rec, req.api_key(), nullptr);
    Minted m = reg_.refresh_api_key(req.api_key(), req.refresh_token(), [ctx] {
      return ctx->IsCancelled() || std::chrono::system_clock::now() > ctx->deadline();
    });
    rec.detail = "minted=" + m.key_id;
    ::auth::_RefreshApiTokenResponse resp;
    resp.set_api_key(std::move(m.api_key));
    resp.set_refresh_token(std::move(m.refresh_token));
    resp.set_endpoint(m.endpoint);
    resp.set_valid_until(m.valid_until);
    serialize(resp, out);
    wipe_response(resp);
  }

  void generate_disposable_token(grpc::ServerContext*, const grpc::ByteBuffer& in,
                                 grpc::ByteBuffer* out, CallRecord& rec) {
    auto req = parse_or_throw<::token::_GenerateDisposableTokenRequest>(in);
    note_caller(rec, req.auth_token(), nullptr);
    Minted m = reg_.generate_disposable_token(req);
    rec.detail = "minted=" + m.key_id;
    ::token::_GenerateDisposableTokenResponse resp;
    resp.set_api_key(std::move(m.api_key));
    resp.set_endpoint(m.endpoint);
    resp.set_valid_until(m.valid_until);
    serialize(resp, out);
    momento::auth::wipe(*resp.mutable_api_key());
  }

  template <class R>
  static void wipe_response(R& r) {
    momento::auth::wipe(*r.mutable_api_key());
    momento::auth::wipe(*r.mutable_refresh_token());
  }

  // ---- control and data plane: credential from `authorization` ----

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
    if (auto err = validate_cache_name(name)) invalid(*err);
    if (!allowed(p->caller(), op)) denied();
    rec.detail = "cache=" + name;
  }

  void create_cache(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
                    CallRecord& rec) {
    auto req = parse_or_throw<control_client::_CreateCacheRequest>(in);
    control(ctx, req.cache_name(), Operation::CreateCache, rec);
    if (!reg_.store().insert_cache({req.cache_name(), reg_.now()}))
      throw ServiceError(StatusCode::ALREADY_EXISTS, "cache already exists: " + req.cache_name());
    data_.add_cache(req.cache_name());
    serialize(control_client::_CreateCacheResponse(), out);
  }

  void delete_cache(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
                    CallRecord& rec) {
    auto req = parse_or_throw<control_client::_DeleteCacheRequest>(in);
    control(ctx, req.cache_name(), Operation::DeleteCache, rec);
    if (!reg_.store().delete_cache(req.cache_name()))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + req.cache_name());
    data_.remove_cache(req.cache_name());
    serialize(control_client::_DeleteCacheResponse(), out);
  }

  void flush_cache(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
                   CallRecord& rec) {
    auto req = parse_or_throw<control_client::_FlushCacheRequest>(in);
    control(ctx, req.cache_name(), Operation::FlushCache, rec);
    if (!reg_.store().cache_exists(req.cache_name()) || !data_.flush(req.cache_name()))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + req.cache_name());
    serialize(control_client::_FlushCacheResponse(), out);
  }

  void list_caches(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
                   CallRecord& rec) {
    auto req = parse_or_throw<control_client::_ListCachesRequest>(in);
    PrincipalRef p = authenticate(ctx, rec);
    if (!allowed(p->caller(), Operation::ListCaches)) denied();
    auto caches = reg_.store().list_caches();  // sorted by name
    control_client::_ListCachesResponse resp;
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
    serialize(resp, out);
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
    if (key.size() > kMaxCacheKeyBytes) invalid("cache_key is larger than 64 KiB");
    rec.detail = "cache=" + d.cache;
    return d;
  }
  void check_cache_exists(const std::string& cache) {
    if (!data_.has_cache(cache))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + cache);
  }

  void get(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
           CallRecord& rec) {
    auto req = parse_or_throw<cache_client::_GetRequest>(in);
    auto d = data_call(ctx, req.cache_key(), rec);
    if (!allowed(d.p->caller(), Operation::Read, d.cache, req.cache_key())) denied();
    auto r = data_.get(d.cache, req.cache_key(), steady_ms());
    if (!r) throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + d.cache);
    cache_client::_GetResponse resp;
    if (*r) {
      resp.set_result(cache_client::Hit);
      resp.set_cache_body(std::move(**r));
    } else {
      resp.set_result(cache_client::Miss);
    }
    serialize(resp, out);
  }

  void set(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
           CallRecord& rec) {
    auto req = parse_or_throw<cache_client::_SetRequest>(in);
    auto d = data_call(ctx, req.cache_key(), rec);
    if (req.ttl_milliseconds() == 0) invalid("ttl_milliseconds must be positive");
    if (!allowed(d.p->caller(), Operation::Write, d.cache, req.cache_key())) denied();
    uint64_t ttl = std::min<uint64_t>(req.ttl_milliseconds(), kMaxTtlMs);
    if (!data_.set(d.cache, req.cache_key(), std::move(*req.mutable_cache_body()), steady_ms(),
                   static_cast<int64_t>(ttl)))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + d.cache);
    cache_client::_SetResponse resp;
    resp.set_result(cache_client::Ok);
    serialize(resp, out);
  }

  void del(grpc::ServerContext* ctx, const grpc::ByteBuffer& in, grpc::ByteBuffer* out,
           CallRecord& rec) {
    auto req = parse_or_throw<cache_client::_DeleteRequest>(in);
    auto d = data_call(ctx, req.cache_key(), rec);
    if (!allowed(d.p->caller(), Operation::Write, d.cache, req.cache_key())) denied();
    if (!data_.erase(d.cache, req.cache_key()))
      throw ServiceError(StatusCode::NOT_FOUND, "cache not found: " + d.cache);
    serialize(cache_client::_DeleteResponse(), out);
  }

  void ping(grpc::ServerContext*, const grpc::ByteBuffer& in, grpc::ByteBuffer* out, CallRecord&) {
    parse_or_throw<cache_client::_PingRequest>(in);
    serialize(cache_client::_PingResponse(), out);
  }

  Registry& reg_;
  Logger& log_;
  const ServerOptions& opts_;
  Faults faults_;
  DataPlane data_;
  std::list<std::string> paths_;  // stable storage for method names
};

AuthServer::AuthServer(ServerOptions opts) : opts_(std::move(opts)) {
  if (opts_.data_dir.empty()) throw std::invalid_argument("--data-dir is required");
  if (opts_.threads < 2) throw std::invalid_argument("--threads must be at least 2");
  if (opts_.tls_cert.empty() != opts_.tls_key.empty())
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  logger_ = std::make_unique<Logger>(opts_.log_format);
  registry_ = std::make_unique<Registry>(opts_.data_dir, opts_.registry);
  if (opts_.bootstrap) bootstrap_key_id_ = registry_->ensure_bootstrap(*opts_.bootstrap);
  service_ = std::make_unique<Service>(*registry_, *logger_, opts_);
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
  builder.RegisterService(service_.get());
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
