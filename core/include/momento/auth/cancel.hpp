// CancelToken: lets one thread cancel the blocking calls another thread is making.
#pragma once

#include <memory>

namespace momento::auth {

namespace detail {
class CallRegistration;
class AsyncRegistration;
}

// A thread is tied to a token with bind_thread(). Every RPC of an AuthClient or DataClient made
// by that thread while it is tied is registered with the token for its duration, and cancel()
// (from any thread) makes those in flight end promptly with ErrorCode::Cancelled. A cancelled
// token stays cancelled: calls started under it afterwards fail at once, without sending
// anything, until reset(). That closes the window between "the caller decided to start a call"
// and "the call is registered", which a one-shot cancel would miss.
//
// An asynchronous call is registered with the token it was given (or the starting thread's)
// until it completes, and keeps the token's state alive meanwhile.
//
// cancel(), reset() and cancelled() are thread-safe. The token must outlive every thread's
// binding to it and every cancel() running on it (destroying it meanwhile is undefined); it may
// be destroyed while asynchronous calls under it are in flight.
// None of this is async-signal-safe: from a signal handler, wake a thread that calls cancel().
class CancelToken {
 public:
  CancelToken();
  ~CancelToken();
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void cancel() noexcept;
  void reset() noexcept;
  bool cancelled() const noexcept;

  // Ties the calling thread's calls to `token` (nullptr: to none); returns the previous token.
  static CancelToken* bind_thread(CancelToken* token) noexcept;
  static CancelToken* thread_token() noexcept;

  struct State;  // defined where the clients register their calls

 private:
  friend class detail::CallRegistration;
  friend class detail::AsyncRegistration;
  std::shared_ptr<State> state_;
};

}  // namespace momento::auth
