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

CancelToken::CancelToken() : state_(std::make_unique<State>()) {}
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

CallRegistration::CallRegistration(grpc::ClientContext& ctx, std::string_view what)
    : token_(t_token), ctx_(&ctx) {
  if (token_ == nullptr) return;
  CancelToken::State& s = *token_->state_;
  std::lock_guard lock(s.mu);
  if (s.cancelled) {
    token_ = nullptr;  // nothing to unregister
    throw Error(ErrorCode::Cancelled, std::string(what) + " was cancelled before it started", 1);
  }
  s.calls.push_back(ctx_);
}

CallRegistration::~CallRegistration() {
  if (token_ == nullptr) return;
  CancelToken::State& s = *token_->state_;
  std::lock_guard lock(s.mu);
  auto it = std::find(s.calls.begin(), s.calls.end(), ctx_);
  if (it != s.calls.end()) s.calls.erase(it);
}

}  // namespace detail
}  // namespace momento::auth
