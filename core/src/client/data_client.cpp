// DataClient: ScsControl, Scs and Ping calls with the headers, retries and deadlines of docs/wire.md.
#include "momento/auth/data_client.hpp"

#include "momento/auth/client.hpp"

#include "cacheclient.grpc.pb.h"
#include "cacheping.grpc.pb.h"
#include "controlclient.grpc.pb.h"
#include "rpc.hpp"

namespace momento::auth {

namespace {

void check_cache_name(std::string_view name) {
  if (name.empty()) throw_invalid("cache name cannot be empty");
}

void check_key(std::string_view key) {
  if (key.empty()) throw_invalid("cache key cannot be empty");
}

// docs/wire.md §10.2: Get/Set/Delete are retried on these statuses only.
bool retry_eligible(grpc::StatusCode c) {
  return c == grpc::StatusCode::INTERNAL || c == grpc::StatusCode::UNAVAILABLE;
}

}  // namespace

struct DataClient::Impl {
  Impl(Credential c, DataClientConfig cfg)
      : credential(std::move(c)),
        config(std::move(cfg)),
        channels(detail::ChannelOptions{
            config.ca_file.empty() ? std::string() : detail::read_ca_file(config.ca_file),
            config.max_message_bytes}),
        cache_headers("cache"),
        ping_headers("ping") {}

  Credential credential;
  DataClientConfig config;
  detail::ChannelCache channels;
  detail::StubCache<::control_client::ScsControl> control_stub;
  detail::StubCache<::cache_client::Scs> cache_stub;
  detail::StubCache<::cache_client::Ping> ping_stub;
  detail::FirstCallHeaders cache_headers;  // Scs and ScsControl
  detail::FirstCallHeaders ping_headers;

  // One control call: a single attempt within the control deadline.
  template <typename Call>
  void control(const char* what, Call&& call) {
    const Endpoint& ep = credential.endpoints().control;
    auto& stub = control_stub.get(channels, ep).stub;
    grpc::ClientContext ctx;
    detail::CallRegistration registration(ctx, what);
    detail::prepare_context(ctx, std::chrono::system_clock::now() + config.control_deadline,
                            credential.raw_key());
    cache_headers.apply(ctx);
    grpc::Status st = call(stub, ctx);
    if (!st.ok()) detail::throw_status(st, what, ep);
  }

  // One data call with up to max_attempts attempts, all sharing one deadline.
  template <typename Call>
  void data(const char* what, std::string_view cache_name, Call&& call) {
    const Endpoint& ep = credential.endpoints().cache;
    auto& stub = cache_stub.get(channels, ep).stub;
    const auto deadline = std::chrono::system_clock::now() + config.data_deadline;
    grpc::Status st;
    for (int attempt = 1; attempt <= config.max_attempts; ++attempt) {
      grpc::ClientContext ctx;
      detail::CallRegistration registration(ctx, what);
      detail::prepare_context(ctx, deadline, credential.raw_key());
      ctx.AddMetadata("cache", std::string(cache_name));
      cache_headers.apply(ctx);
      st = call(stub, ctx);
      if (st.ok() || !retry_eligible(st.error_code())) break;
      if (std::chrono::system_clock::now() >= deadline) break;
    }
    if (!st.ok()) detail::throw_status(st, what, ep);
  }
};

DataClient::DataClient(Credential credential, DataClientConfig config) {
  check_deadline(config.control_deadline, "control_deadline");
  check_deadline(config.data_deadline, "data_deadline");
  if (config.max_attempts < 1 || config.max_attempts > 10)
    throw_invalid("max_attempts must be between 1 and 10");
  check_max_message_bytes(config.max_message_bytes, "max_message_bytes");
  impl_ = std::make_unique<Impl>(std::move(credential), std::move(config));
}

DataClient::~DataClient() = default;
DataClient::DataClient(DataClient&&) noexcept = default;
DataClient& DataClient::operator=(DataClient&&) noexcept = default;

const Credential& DataClient::credential() const noexcept { return impl_->credential; }

void DataClient::create_cache(std::string_view cache_name) {
  check_cache_name(cache_name);
  ::control_client::_CreateCacheRequest req;
  req.set_cache_name(std::string(cache_name));
  ::control_client::_CreateCacheResponse resp;
  impl_->control("CreateCache", [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.CreateCache(&ctx, req, &resp);
  });
}

void DataClient::delete_cache(std::string_view cache_name) {
  check_cache_name(cache_name);
  ::control_client::_DeleteCacheRequest req;
  req.set_cache_name(std::string(cache_name));
  ::control_client::_DeleteCacheResponse resp;
  impl_->control("DeleteCache", [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.DeleteCache(&ctx, req, &resp);
  });
}

void DataClient::flush_cache(std::string_view cache_name) {
  check_cache_name(cache_name);
  ::control_client::_FlushCacheRequest req;
  req.set_cache_name(std::string(cache_name));
  ::control_client::_FlushCacheResponse resp;
  impl_->control("FlushCache", [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.FlushCache(&ctx, req, &resp);
  });
}

std::vector<std::string> DataClient::list_caches() {
  std::vector<std::string> names;
  std::string next;
  // The service may page; bounded so a misbehaving server cannot loop us forever.
  for (int page = 0; page < 1000; ++page) {
    ::control_client::_ListCachesRequest req;
    req.set_next_token(next);
    ::control_client::_ListCachesResponse resp;
    impl_->control("ListCaches", [&](auto& stub, grpc::ClientContext& ctx) {
      return stub.ListCaches(&ctx, req, &resp);
    });
    for (const auto& c : resp.cache()) names.push_back(c.cache_name());
    next = resp.next_token();
    if (next.empty()) return names;
  }
  throw Error(ErrorCode::UnknownService, "ListCaches: the server kept returning more pages");
}

void DataClient::set(std::string_view cache_name, std::string_view key, std::string_view value,
                     std::chrono::milliseconds ttl) {
  check_cache_name(cache_name);
  check_key(key);
  if (ttl.count() <= 0) throw_invalid("ttl must be positive");
  ::cache_client::_SetRequest req;
  req.set_cache_key(std::string(key));
  req.set_cache_body(std::string(value));
  req.set_ttl_milliseconds(static_cast<uint64_t>(ttl.count()));
  ::cache_client::_SetResponse resp;
  impl_->data("Set", cache_name, [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.Set(&ctx, req, &resp);
  });
  if (resp.result() != ::cache_client::Ok)
    throw Error(ErrorCode::UnknownService, "Set: unexpected result " +
                                               std::to_string(static_cast<int>(resp.result())));
}

std::optional<std::string> DataClient::get(std::string_view cache_name, std::string_view key) {
  check_cache_name(cache_name);
  check_key(key);
  ::cache_client::_GetRequest req;
  req.set_cache_key(std::string(key));
  ::cache_client::_GetResponse resp;
  impl_->data("Get", cache_name, [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.Get(&ctx, req, &resp);
  });
  switch (resp.result()) {
    case ::cache_client::Hit: return std::move(*resp.mutable_cache_body());
    case ::cache_client::Miss: return std::nullopt;
    default:
      throw Error(ErrorCode::UnknownService,
                  "Get: unexpected result " + std::to_string(static_cast<int>(resp.result())));
  }
}

void DataClient::delete_key(std::string_view cache_name, std::string_view key) {
  check_cache_name(cache_name);
  check_key(key);
  ::cache_client::_DeleteRequest req;
  req.set_cache_key(std::string(key));
  ::cache_client::_DeleteResponse resp;
  impl_->data("Delete", cache_name, [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.Delete(&ctx, req, &resp);
  });
}

void DataClient::ping() {
  const Endpoint& ep = impl_->credential.endpoints().cache;
  auto& stub = impl_->ping_stub.get(impl_->channels, ep).stub;
  grpc::ClientContext ctx;
  detail::CallRegistration registration(ctx, "Ping");
  ctx.set_deadline(std::chrono::system_clock::now() + impl_->config.data_deadline);
  impl_->ping_headers.apply(ctx);
  ::cache_client::_PingRequest req;
  ::cache_client::_PingResponse resp;
  grpc::Status st = stub.Ping(&ctx, req, &resp);
  if (!st.ok()) detail::throw_status(st, "Ping", ep);
}

}  // namespace momento::auth
