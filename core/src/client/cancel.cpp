// CancelToken and the per-call registration the clients make with the calling thread's token.
#include "momento/auth/cancel.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include "momento/auth/error.hpp"
#include "rpc.hpp"

namespace momento::auth {

namespace {
thread_local CancelToken* t_token = nullptr;
}

struct CancelToken::State {
  mutable std::mutex mu;
  bool cancelled = false;
  std::vector<grpc::ClientContext*> calls;  // in flight under this token (a handful at most)
};

CancelToken::CancelToken() : state_(std::make_shared<State>()) {}
CancelToken::~CancelToken() = default;

void CancelToken::cancel() noexcept {
  std::lock_guard lock(state_->mu);
  state_->cancelled = true;
  // TryCancel is thread-safe and never blocks; holding the lock keeps each context alive
  // (its call unregisters under the same lock before the context is destroyed).
  for (grpc::ClientContext* ctx : state_->calls) ctx->TryCancel();
}

void CancelToken::reset() noexcept {
  std::lock_guard lock(state_->mu);
  state_->cancelled = false;
}

bool CancelToken::cancelled() const noexcept {
  std::lock_guard lock(state_->mu);
  return state_->cancelled;
}

CancelToken* CancelToken::bind_thread(CancelToken* token) noexcept {
  CancelToken* previous = t_token;
  t_token = token;
  return previous;
}

CancelToken* CancelToken::thread_token() noexcept { return t_token; }

namespace detail {

namespace {
// Adds a call's context to the token's list; false (nothing added) when the token is cancelled.
bool enlist(CancelToken::State& s, grpc::ClientContext* ctx) {
  std::lock_guard lock(s.mu);
  if (s.cancelled) return false;
  s.calls.push_back(ctx);
  return true;
}

void delist(CancelToken::State& s, grpc::ClientContext* ctx) {
  std::lock_guard lock(s.mu);
  auto it = std::find(s.calls.begin(), s.calls.end(), ctx);
  if (it != s.calls.end()) s.calls.erase(it);
}
}  // namespace

CallRegistration::CallRegistration(grpc::ClientContext& ctx, std::string_view what)
    : token_(t_token), ctx_(&ctx) {
  if (token_ == nullptr) return;
  if (!enlist(*token_->state_, ctx_)) {
    token_ = nullptr;  // nothing to unregister
    throw Error(ErrorCode::Cancelled, std::string(what) + " was cancelled before it started", 1);
  }
}

CallRegistration::~CallRegistration() {
  if (token_ != nullptr) delist(*token_->state_, ctx_);
}

AsyncRegistration::AsyncRegistration(grpc::ClientContext& ctx, CancelToken* token)
    : ctx_(&ctx) {
  if (token == nullptr) token = t_token;
  if (token == nullptr) return;
  // A cancelled token cancels the context before the call starts: the call then ends with
  // CANCELLED through its completion, like every other outcome, without sending anything.
  if (enlist(*token->state_, ctx_))
    state_ = token->state_;
  else
    ctx.TryCancel();
}

AsyncRegistration::~AsyncRegistration() {
  if (state_) delist(*state_, ctx_);
}

}  // namespace detail
}  // namespace momento::auth
