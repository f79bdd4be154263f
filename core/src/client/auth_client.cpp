// AuthClient over gRPC (docs/wire.md §8): GenerateApiToken, RefreshApiToken, GenerateDisposableToken.
#include "momento/auth/client.hpp"

#include <optional>
#include <type_traits>

#include "auth.grpc.pb.h"
#include "permissionmessages.pb.h"
#include "rpc.hpp"
#include "token.grpc.pb.h"
#include "../util/encoding.hpp"

namespace momento::auth {

namespace {

// Builds the caller's result from the response fields; the raw key is wrapped as a v1 envelope.
Token make_result(const std::string& api_key, const std::string& refresh_token,
                  const std::string& endpoint, uint64_t valid_until,
                  const std::string& fallback_endpoint, const char* rpc) {
  if (api_key.empty())
    throw Error(ErrorCode::UnknownService, std::string(rpc) + ": the server returned no api_key");
  const std::string& base = endpoint.empty() ? fallback_endpoint : endpoint;
  if (base.empty())
    throw Error(ErrorCode::UnknownService, std::string(rpc) + ": the server returned no endpoint");
  Token r;
  r.api_key = Secret(encode_envelope(base, api_key));
  r.refresh_token = Secret(refresh_token);
  r.endpoint = base;
  r.valid_until = ExpiresAt::from_epoch(valid_until);
  return r;
}

// The three RPCs: their messages, stub methods and endpoint, and the secrets each request and
// response carries.
struct GenerateRpc {
  using Service = ::auth::Auth;
  using Request = ::auth::_GenerateApiTokenRequest;
  using Response = ::auth::_GenerateApiTokenResponse;
  static constexpr const char* name = "GenerateApiToken";
  static constexpr auto call = &Service::Stub::GenerateApiToken;
  static constexpr auto start = &Service::Stub::AsyncGenerateApiToken;
  static constexpr bool has_refresh_token = true;
  static const Endpoint& endpoint(const Credential& c) { return c.endpoints().control; }
  static void wipe_request(Request& q) { wipe(*q.mutable_auth_token()); }
};

struct RefreshRpc {
  using Service = ::auth::Auth;
  using Request = ::auth::_RefreshApiTokenRequest;
  using Response = ::auth::_RefreshApiTokenResponse;
  static constexpr const char* name = "RefreshApiToken";
  static constexpr auto call = &Service::Stub::RefreshApiToken;
  static constexpr auto start = &Service::Stub::AsyncRefreshApiToken;
  static constexpr bool has_refresh_token = true;
  static const Endpoint& endpoint(const Credential& c) { return c.endpoints().control; }
  static void wipe_request(Request& q) {
    wipe(*q.mutable_api_key());
    wipe(*q.mutable_refresh_token());
  }
};

struct DisposableRpc {
  using Service = ::token::Token;
  using Request = ::token::_GenerateDisposableTokenRequest;
  using Response = ::token::_GenerateDisposableTokenResponse;
  static constexpr const char* name = "GenerateDisposableToken";
  static constexpr auto call = &Service::Stub::GenerateDisposableToken;
  static constexpr auto start = &Service::Stub::AsyncGenerateDisposableToken;
  static constexpr bool has_refresh_token = false;
  static const Endpoint& endpoint(const Credential& c) { return c.endpoints().token; }
  static void wipe_request(Request& q) { wipe(*q.mutable_auth_token()); }
};

// The caller's Token from a response, whose secrets are wiped.
template <class Rpc>
Token take(typename Rpc::Response& r, const std::string& fallback) {
  std::string refresh;
  if constexpr (Rpc::has_refresh_token) refresh.swap(*r.mutable_refresh_token());
  struct Wipe {  // on every way out, a rejected answer's included
    std::string& key;
    std::string& refresh;
    ~Wipe() {
      wipe(key);
      wipe(refresh);
    }
  } wipe_on_exit{*r.mutable_api_key(), refresh};
  return make_result(r.api_key(), refresh, r.endpoint(), r.valid_until(), fallback, Rpc::name);
}

}  // namespace

struct AuthClient::Impl {
  Impl(Credential c, ClientConfig cfg)
      : credential(std::move(c)),
        config(std::move(cfg)),
        channels(detail::ChannelOptions{
            config.ca_file.empty() ? std::string() : detail::read_ca_file(config.ca_file),
            config.max_message_bytes}),
        headers("auth") {}

  Credential credential;
  ClientConfig config;
  detail::ChannelCache channels;
  detail::StubCache<::auth::Auth> auth_stub;
  detail::StubCache<::token::Token> token_stub;
  detail::FirstCallHeaders headers;

  template <class Rpc>
  auto& stub() {
    if constexpr (std::is_same_v<typename Rpc::Service, ::auth::Auth>)
      return auth_stub.get(channels, Rpc::endpoint(credential));
    else
      return token_stub.get(channels, Rpc::endpoint(credential));
  }

  // Prepares a context for one Auth/Token call: deadline, authorization, first-call headers.
  void prepare(grpc::ClientContext& ctx) {
    detail::prepare_context(ctx, std::chrono::system_clock::now() + config.deadline,
                            credential.raw_key());
    headers.apply(ctx);
  }

  // ---- requests (every argument check of the three calls) ----

  ::auth::_GenerateApiTokenRequest generate_request(const PermissionScope& scope,
                                                    const ExpiresIn& expires_in) {
    ::auth::_GenerateApiTokenRequest req;
    scope_to_proto(scope, ScopeUse::ApiKey, req.mutable_permissions());
    if (expires_in.does_expire()) {
      if (expires_in.valid_for_seconds() == 0) throw_invalid("expires_in must be positive");
      req.mutable_expires()->set_valid_for_seconds(expires_in.valid_for_seconds());
    } else {
      req.mutable_never();
    }
    req.set_auth_token(credential.raw_key());
    return req;
  }

  ::auth::_RefreshApiTokenRequest refresh_request(std::string_view refresh_token) {
    if (refresh_token.empty())
      throw_invalid(
          "refresh token is empty; never-expiring keys have none and cannot be refreshed");
    if (credential.kind() != CredentialKind::V1Envelope)
      throw_invalid(
          std::string("only v1 API keys (envelopes) can be refreshed; this credential is ") +
          credential_kind_name(credential.kind()));
    ::auth::_RefreshApiTokenRequest req;
    req.set_api_key(credential.raw_key());
    req.set_refresh_token(std::string(refresh_token));
    return req;
  }

  ::token::_GenerateDisposableTokenRequest disposable_request(const PermissionScope& scope,
                                                              const ExpiresIn& expires_in,
                                                              std::string_view token_id) {
    if (!expires_in.does_expire()) throw_invalid("disposable tokens must have an expiry");
    if (expires_in.valid_for_seconds() == 0) throw_invalid("expires_in must be positive");
    auto code_points = detail::utf8_code_points(token_id);
    if (!code_points) throw_invalid("token_id is not valid UTF-8");
    if (*code_points > kMaxTokenIdCodePoints)
      throw_invalid("TokenID must be less than or equal to 64 characters.");
    ::token::_GenerateDisposableTokenRequest req;
    scope_to_proto(scope, ScopeUse::DisposableToken, req.mutable_permissions());
    req.mutable_expires()->set_valid_for_seconds(expires_in.valid_for_seconds());
    req.set_auth_token(credential.raw_key());
    if (!token_id.empty()) req.set_token_id(std::string(token_id));
    return req;
  }

  // ---- calls: exactly one attempt each (a refresh token is single-use, so a blind retry could
  // burn the family) ----

  // The Token of a finished call, or its status as an Error.
  template <class Rpc>
  Token finish(const grpc::Status& st, typename Rpc::Response& resp, const Endpoint& ep,
               bool was_ready, grpc::Channel& channel) {
    if (!st.ok()) {
      // UNAVAILABLE on a channel that was not connected before the call and is not now: the
      // call found no connection to go out on. (A connection made and lost within the call
      // looks the same; callers only use this to drop a journal entry, so that rare case errs
      // towards the behaviour without one.)
      const bool not_sent = st.error_code() == grpc::StatusCode::UNAVAILABLE && !was_ready &&
                            channel.GetState(false) != GRPC_CHANNEL_READY;
      detail::throw_status(st, Rpc::name, ep, not_sent);
    }
    return take<Rpc>(resp, credential.base_endpoint());
  }

  // On the calling thread.
  template <class Rpc>
  Token call(typename Rpc::Request req) {
    struct Wipe {
      typename Rpc::Request& req;
      ~Wipe() { Rpc::wipe_request(req); }
    } wipe_on_exit{req};
    auto& conn = stub<Rpc>();
    grpc::ClientContext ctx;
    detail::CallRegistration registration(ctx, Rpc::name);
    prepare(ctx);
    typename Rpc::Response resp;
    const bool was_ready = conn.channel->GetState(false) == GRPC_CHANNEL_READY;
    grpc::Status st = (conn.stub.*Rpc::call)(&ctx, req, &resp);
    return finish<Rpc>(st, resp, Rpc::endpoint(credential), was_ready, *conn.channel);
  }

  // Started here, completed on the thread of detail::async_queue(). The call owns everything it
  // uses, the client's state included, so the client may go away meanwhile.
  template <class Rpc>
  static void start(const std::shared_ptr<Impl>& self, typename Rpc::Request req,
                    CancelToken* cancel, TokenCompletion done) {
    struct Call final : detail::AsyncTag {
      std::shared_ptr<Impl> impl;  // first: released last
      std::shared_ptr<grpc::Channel> channel;
      typename Rpc::Request req;
      typename Rpc::Response resp;
      grpc::Status status;
      grpc::ClientContext ctx;
      std::optional<detail::AsyncRegistration> registration;
      std::unique_ptr<grpc::ClientAsyncResponseReader<typename Rpc::Response>> reader;
      TokenCompletion done;
      bool was_ready = false;
      ~Call() override { Rpc::wipe_request(req); }

      void complete() noexcept override {
        std::unique_ptr<Call> owned(this);
        registration.reset();
        const Endpoint& ep = Rpc::endpoint(impl->credential);
        std::optional<Token> token;
        std::optional<Error> error;
        try {
          token.emplace(impl->template finish<Rpc>(status, resp, ep, was_ready, *channel));
        } catch (const Error& e) {
          error.emplace(e);
        } catch (const std::bad_alloc&) {
          error.emplace(ErrorCode::ClientResourceExhausted, "out of memory");
        } catch (...) {
          error.emplace(ErrorCode::Unknown, std::string("internal error in ") + Rpc::name);
        }
        try {
          done(token ? &*token : nullptr, error ? &*error : nullptr);
        } catch (...) {
          // A completion that throws ends here: the queue's thread must not see it.
        }
      }
    };
    auto call = std::make_unique<Call>();
    call->impl = self;
    auto& conn = self->template stub<Rpc>();
    call->channel = conn.channel;
    call->req = std::move(req);
    call->done = std::move(done);
    self->prepare(call->ctx);
    call->registration.emplace(call->ctx, cancel);
    call->was_ready = call->channel->GetState(false) == GRPC_CHANNEL_READY;
    call->reader = (conn.stub.*Rpc::start)(&call->ctx, call->req, &detail::async_queue());
    // Every access to the call by this thread comes before the hand-off: after Finish() it may
    // already be complete and freed.
    auto* reader = call->reader.get();
    auto* resp = &call->resp;
    auto* status = &call->status;
    detail::AsyncTag* tag = call.release();  // the queue hands it back to complete()
    detail::handing_to_queue(tag);
    reader->Finish(resp, status, tag);
  }
};

AuthClient::AuthClient(Credential credential, ClientConfig config) {
  check_deadline(config.deadline, "deadline");
  check_max_message_bytes(config.max_message_bytes, "max_message_bytes");
  impl_ = std::make_shared<Impl>(std::move(credential), std::move(config));
}

AuthClient::~AuthClient() = default;
AuthClient::AuthClient(AuthClient&&) noexcept = default;
AuthClient& AuthClient::operator=(AuthClient&&) noexcept = default;

const Credential& AuthClient::credential() const noexcept { return impl_->credential; }

Token AuthClient::generate_api_key(const PermissionScope& scope, const ExpiresIn& expires_in) {
  return impl_->call<GenerateRpc>(impl_->generate_request(scope, expires_in));
}

Token AuthClient::refresh_api_key(std::string_view refresh_token) {
  return impl_->call<RefreshRpc>(impl_->refresh_request(refresh_token));
}

Token AuthClient::generate_disposable_token(const PermissionScope& scope,
                                            const ExpiresIn& expires_in,
                                            std::string_view token_id) {
  return impl_->call<DisposableRpc>(impl_->disposable_request(scope, expires_in, token_id));
}

void AuthClient::generate_api_key_async(const PermissionScope& scope, const ExpiresIn& expires_in,
                                        CancelToken* cancel, TokenCompletion done) {
  Impl::start<GenerateRpc>(impl_, impl_->generate_request(scope, expires_in), cancel,
                           std::move(done));
}

void AuthClient::refresh_api_key_async(std::string_view refresh_token, CancelToken* cancel,
                                       TokenCompletion done) {
  Impl::start<RefreshRpc>(impl_, impl_->refresh_request(refresh_token), cancel, std::move(done));
}

void AuthClient::generate_disposable_token_async(const PermissionScope& scope,
                                                 const ExpiresIn& expires_in,
                                                 std::string_view token_id, CancelToken* cancel,
                                                 TokenCompletion done) {
  Impl::start<DisposableRpc>(impl_, impl_->disposable_request(scope, expires_in, token_id),
                             cancel, std::move(done));
}

}  // namespace momento::auth
