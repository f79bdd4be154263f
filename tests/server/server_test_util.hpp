// Helpers for tests that talk to a live momento-auth-server through the generated stubs.
#pragma once

#include <grpcpp/grpcpp.h>
#include <openssl/sha.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "auth.grpc.pb.h"
#include "cacheclient.grpc.pb.h"
#include "cacheping.grpc.pb.h"
#include "controlclient.grpc.pb.h"
#include "server_process.hpp"
#include "token.grpc.pb.h"

namespace momento::test {

namespace pm = permission_messages;

inline pm::Permissions super_user_perms() {
  pm::Permissions p;
  p.set_super_user(pm::SuperUser);
  return p;
}

inline pm::Permissions all_data_read_write() {
  pm::Permissions p;
  auto* list = p.mutable_explicit_()->mutable_permissions();
  auto* c = list->Add()->mutable_cache_permissions();
  c->set_role(pm::CacheReadWrite);
  c->mutable_all_caches();
  auto* t = list->Add()->mutable_topic_permissions();
  t->set_role(pm::TopicReadWrite);
  t->mutable_all_caches();
  t->mutable_all_topics();
  auto* f = list->Add()->mutable_function_permissions();
  f->set_role(pm::FunctionInvoke);
  f->mutable_all_caches();
  f->mutable_all_functions();
  return p;
}

// One cache permission entry; `cache` empty = all caches.
inline pm::PermissionsType cache_entry(pm::CacheRole role, const std::string& cache = "") {
  pm::PermissionsType e;
  auto* c = e.mutable_cache_permissions();
  c->set_role(role);
  if (cache.empty()) c->mutable_all_caches();
  else c->mutable_cache_selector()->set_cache_name(cache);
  return e;
}

inline pm::Permissions explicit_perms(std::initializer_list<pm::PermissionsType> entries) {
  pm::Permissions p;
  for (const auto& e : entries) *p.mutable_explicit_()->add_permissions() = e;
  return p;
}

struct Answer {
  grpc::Status status;
  std::string api_key, refresh_token, endpoint;
  uint64_t valid_until = 0;
  bool ok() const { return status.ok(); }
};

inline std::chrono::system_clock::time_point deadline(int seconds = 15) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

class Stubs {
 public:
  explicit Stubs(const std::string& address,
                 std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials(),
                 const grpc::ChannelArguments& args = {})
      : channel_(grpc::CreateCustomChannel(address, creds, args)),
        auth_(::auth::Auth::NewStub(channel_)),
        token_(::token::Token::NewStub(channel_)),
        control_(control_client::ScsControl::NewStub(channel_)),
        cache_(cache_client::Scs::NewStub(channel_)),
        ping_(cache_client::Ping::NewStub(channel_)) {}

  // GenerateApiToken; lifetime 0 = never.
  Answer generate(const std::string& caller, const pm::Permissions& perms, uint32_t lifetime,
                  const std::string& token_id = "") {
    ::auth::_GenerateApiTokenRequest req;
    req.set_auth_token(caller);
    *req.mutable_permissions() = perms;
    if (lifetime == 0) req.mutable_never();
    else req.mutable_expires()->set_valid_for_seconds(lifetime);
    if (!token_id.empty()) req.set_token_id(token_id);
    return generate_raw(req);
  }
  Answer generate_raw(const ::auth::_GenerateApiTokenRequest& req,
                      const std::multimap<std::string, std::string>& md = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    for (auto& [k, v] : md) ctx.AddMetadata(k, v);
    ::auth::_GenerateApiTokenResponse resp;
    Answer a;
    a.status = auth_->GenerateApiToken(&ctx, req, &resp);
    a.api_key = resp.api_key();
    a.refresh_token = resp.refresh_token();
    a.endpoint = resp.endpoint();
    a.valid_until = resp.valid_until();
    return a;
  }

  Answer refresh(const std::string& api_key, const std::string& refresh_token,
                 const std::multimap<std::string, std::string>& md = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    for (auto& [k, v] : md) ctx.AddMetadata(k, v);
    ::auth::_RefreshApiTokenRequest req;
    req.set_api_key(api_key);
    req.set_refresh_token(refresh_token);
    ::auth::_RefreshApiTokenResponse resp;
    Answer a;
    a.status = auth_->RefreshApiToken(&ctx, req, &resp);
    a.api_key = resp.api_key();
    a.refresh_token = resp.refresh_token();
    a.endpoint = resp.endpoint();
    a.valid_until = resp.valid_until();
    return a;
  }

  Answer disposable(const std::string& caller, const pm::Permissions& perms, uint32_t lifetime,
                    const std::string& token_id = "") {
    ::token::_GenerateDisposableTokenRequest req;
    req.set_auth_token(caller);
    *req.mutable_permissions() = perms;
    if (lifetime) req.mutable_expires()->set_valid_for_seconds(lifetime);
    if (!token_id.empty()) req.set_token_id(token_id);
    return disposable_raw(req);
  }
  Answer disposable_raw(const ::token::_GenerateDisposableTokenRequest& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    ::token::_GenerateDisposableTokenResponse resp;
    Answer a;
    a.status = token_->GenerateDisposableToken(&ctx, req, &resp);
    a.api_key = resp.api_key();
    a.endpoint = resp.endpoint();
    a.valid_until = resp.valid_until();
    return a;
  }

  grpc::Status create_cache(const std::string& key, const std::string& name) {
    auto ctx = context(key);
    control_client::_CreateCacheRequest req;
    req.set_cache_name(name);
    control_client::_CreateCacheResponse resp;
    return control_->CreateCache(ctx.get(), req, &resp);
  }
  grpc::Status delete_cache(const std::string& key, const std::string& name) {
    auto ctx = context(key);
    control_client::_DeleteCacheRequest req;
    req.set_cache_name(name);
    control_client::_DeleteCacheResponse resp;
    return control_->DeleteCache(ctx.get(), req, &resp);
  }
  grpc::Status flush_cache(const std::string& key, const std::string& name) {
    auto ctx = context(key);
    control_client::_FlushCacheRequest req;
    req.set_cache_name(name);
    control_client::_FlushCacheResponse resp;
    return control_->FlushCache(ctx.get(), req, &resp);
  }
  grpc::Status list_caches(const std::string& key, control_client::_ListCachesResponse* out = nullptr,
                           const std::string& next_token = "") {
    auto ctx = context(key);
    control_client::_ListCachesRequest req;
    req.set_next_token(next_token);
    control_client::_ListCachesResponse resp;
    auto st = control_->ListCaches(ctx.get(), req, &resp);
    if (out) *out = resp;
    return st;
  }
  grpc::Status get(const std::string& key, const std::string& cache, const std::string& item,
                   cache_client::_GetResponse* out = nullptr,
                   const std::multimap<std::string, std::string>& md = {}) {
    auto ctx = context(key, cache, md);
    cache_client::_GetRequest req;
    req.set_cache_key(item);
    cache_client::_GetResponse resp;
    auto st = cache_->Get(ctx.get(), req, &resp);
    if (out) *out = resp;
    return st;
  }
  grpc::Status set(const std::string& key, const std::string& cache, const std::string& item,
                   const std::string& value, uint64_t ttl_ms = 60000,
                   const std::multimap<std::string, std::string>& md = {}) {
    auto ctx = context(key, cache, md);
    cache_client::_SetRequest req;
    req.set_cache_key(item);
    req.set_cache_body(value);
    req.set_ttl_milliseconds(ttl_ms);
    cache_client::_SetResponse resp;
    return cache_->Set(ctx.get(), req, &resp);
  }
  grpc::Status del(const std::string& key, const std::string& cache, const std::string& item) {
    auto ctx = context(key, cache);
    cache_client::_DeleteRequest req;
    req.set_cache_key(item);
    cache_client::_DeleteResponse resp;
    return cache_->Delete(ctx.get(), req, &resp);
  }
  grpc::Status ping(const std::multimap<std::string, std::string>& md = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    for (auto& [k, v] : md) ctx.AddMetadata(k, v);
    cache_client::_PingRequest req;
    cache_client::_PingResponse resp;
    return ping_->Ping(&ctx, req, &resp);
  }

  ::auth::Auth::Stub& auth() { return *auth_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  std::unique_ptr<grpc::ClientContext> context(const std::string& key, const std::string& cache = "",
                                               const std::multimap<std::string, std::string>& md = {}) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(deadline());
    ctx->AddMetadata("authorization", key);
    if (!cache.empty()) ctx->AddMetadata("cache", cache);
    for (auto& [k, v] : md) ctx->AddMetadata(k, v);
    return ctx;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::auth::Auth::Stub> auth_;
  std::unique_ptr<::token::Token::Stub> token_;
  std::unique_ptr<control_client::ScsControl::Stub> control_;
  std::unique_ptr<cache_client::Scs::Stub> cache_;
  std::unique_ptr<cache_client::Ping::Stub> ping_;
};

// The public key id the server's admin commands use: first 16 hex digits of SHA-256(raw key).
inline std::string key_id(const std::string& raw) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), d);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(hex[d[i] >> 4]);
    out.push_back(hex[d[i] & 15]);
  }
  return out;
}

inline int64_t epoch_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Polls `probe` until it returns true, for at most `limit`. Returns the final answer.
template <class F>
bool eventually(F probe, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace momento::test
