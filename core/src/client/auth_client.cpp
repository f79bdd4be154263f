// AuthClient over gRPC (docs/wire.md §8): GenerateApiToken, RefreshApiToken, GenerateDisposableToken.
#include "momento/auth/client.hpp"

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
  detail::FirstCallHeaders headers;

  // Prepares a context for one Auth/Token call: deadline, authorization, first-call headers.
  void prepare(grpc::ClientContext& ctx) {
    detail::prepare_context(ctx, std::chrono::system_clock::now() + config.deadline,
                            credential.raw_key());
    headers.apply(ctx);
  }
};

AuthClient::AuthClient(Credential credential, ClientConfig config) {
  check_deadline(config.deadline, "deadline");
  check_max_message_bytes(config.max_message_bytes, "max_message_bytes");
  impl_ = std::make_unique<Impl>(std::move(credential), std::move(config));
}

AuthClient::~AuthClient() = default;
AuthClient::AuthClient(AuthClient&&) noexcept = default;
AuthClient& AuthClient::operator=(AuthClient&&) noexcept = default;

const Credential& AuthClient::credential() const noexcept { return impl_->credential; }

Token AuthClient::generate_api_key(const PermissionScope& scope,
                                         const ExpiresIn& expires_in) {
  ::auth::_GenerateApiTokenRequest req;
  scope_to_proto(scope, ScopeUse::ApiKey, req.mutable_permissions());
  if (expires_in.does_expire()) {
    if (expires_in.valid_for_seconds() == 0) throw_invalid("expires_in must be positive");
    req.mutable_expires()->set_valid_for_seconds(expires_in.valid_for_seconds());
  } else {
    req.mutable_never();
  }
  req.set_auth_token(impl_->credential.raw_key());

  const Endpoint& ep = impl_->credential.endpoints().control;
  auto stub = ::auth::Auth::NewStub(impl_->channels.get(ep));
  grpc::ClientContext ctx;
  detail::CallRegistration registration(ctx, "GenerateApiToken");
  impl_->prepare(ctx);
  ::auth::_GenerateApiTokenResponse resp;
  grpc::Status st = stub->GenerateApiToken(&ctx, req, &resp);
  wipe(*req.mutable_auth_token());
  if (!st.ok()) detail::throw_status(st, "GenerateApiToken", ep);
  Token r = make_result(resp.api_key(), resp.refresh_token(), resp.endpoint(),
                              resp.valid_until(), impl_->credential.base_endpoint(),
                              "GenerateApiToken");
  wipe(*resp.mutable_api_key());
  wipe(*resp.mutable_refresh_token());
  return r;
}

Token AuthClient::refresh_api_key(std::string_view refresh_token) {
  if (refresh_token.empty())
    throw_invalid("refresh token is empty; never-expiring keys have none and cannot be refreshed");
  if (impl_->credential.kind() != CredentialKind::V1Envelope)
    throw_invalid(std::string("only v1 API keys (envelopes) can be refreshed; this credential is ") +
                  credential_kind_name(impl_->credential.kind()));

  ::auth::_RefreshApiTokenRequest req;
  req.set_api_key(impl_->credential.raw_key());
  req.set_refresh_token(std::string(refresh_token));

  const Endpoint& ep = impl_->credential.endpoints().control;
  auto channel = impl_->channels.get(ep);
  auto stub = ::auth::Auth::NewStub(channel);
  grpc::ClientContext ctx;
  detail::CallRegistration registration(ctx, "RefreshApiToken");
  impl_->prepare(ctx);
  ::auth::_RefreshApiTokenResponse resp;
  const bool was_ready = channel->GetState(false) == GRPC_CHANNEL_READY;
  // Exactly one attempt: a refresh token is single-use, so a blind retry could burn the family.
  grpc::Status st = stub->RefreshApiToken(&ctx, req, &resp);
  wipe(*req.mutable_api_key());
  wipe(*req.mutable_refresh_token());
  if (!st.ok()) {
    // UNAVAILABLE on a channel that was not connected before the call and is not now: the call
    // found no connection to go out on. (A connection made and lost within the call looks the
    // same; callers only use this to drop a journal entry, so that rare case errs towards the
    // behaviour without one.)
    const bool not_sent = st.error_code() == grpc::StatusCode::UNAVAILABLE && !was_ready &&
                          channel->GetState(false) != GRPC_CHANNEL_READY;
    detail::throw_status(st, "RefreshApiToken", ep, not_sent);
  }
  Token r = make_result(resp.api_key(), resp.refresh_token(), resp.endpoint(),
                              resp.valid_until(), impl_->credential.base_endpoint(),
                              "RefreshApiToken");
  wipe(*resp.mutable_api_key());
  wipe(*resp.mutable_refresh_token());
  return r;
}

Token AuthClient::generate_disposable_token(const PermissionScope& scope,
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
  req.set_auth_token(impl_->credential.raw_key());
  if (!token_id.empty()) req.set_token_id(std::string(token_id));

  const Endpoint& ep = impl_->credential.endpoints().token;
  auto stub = ::token::Token::NewStub(impl_->channels.get(ep));
  grpc::ClientContext ctx;
  detail::CallRegistration registration(ctx, "GenerateDisposableToken");
  impl_->prepare(ctx);
  ::token::_GenerateDisposableTokenResponse resp;
  grpc::Status st = stub->GenerateDisposableToken(&ctx, req, &resp);
  wipe(*req.mutable_auth_token());
  if (!st.ok()) detail::throw_status(st, "GenerateDisposableToken", ep);
  Token r = make_result(resp.api_key(), std::string(), resp.endpoint(), resp.valid_until(),
                              impl_->credential.base_endpoint(), "GenerateDisposableToken");
  wipe(*resp.mutable_api_key());
  return r;
}

}  // namespace momento::auth
