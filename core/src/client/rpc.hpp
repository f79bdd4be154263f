// Internal helpers shared by AuthClient and DataClient: channels, request metadata, status mapping.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "momento/auth/cancel.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth::detail {

// Channel settings common to every client.
struct ChannelOptions {
  std::string ca_pem;  // PEM roots; empty = system roots
  int max_message_bytes = 4 * 1024 * 1024;
};

// Reads a PEM bundle for TLS roots; throws InvalidArgument naming the file when unreadable.
std::string read_ca_file(const std::string& path);

// "host:port" as a gRPC target (IPv6 literals get brackets).
std::string grpc_target(const Endpoint& e);

// One long-lived channel per distinct endpoint, created on first use. Thread-safe.
class ChannelCache {
 public:
  explicit ChannelCache(ChannelOptions options) : options_(std::move(options)) {}
  std::shared_ptr<grpc::Channel> get(const Endpoint& e);

 private:
  ChannelOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// A service's stub on the channel to one endpoint, made on first use and then kept (a client's
// endpoints never change), so that a call neither looks its channel up nor registers the
// service's methods with it again. Thread-safe; stubs are.
template <class Service>
class StubCache {
 public:
  struct Entry {
    explicit Entry(std::shared_ptr<grpc::Channel> c) : channel(std::move(c)), stub(channel) {}
    std::shared_ptr<grpc::Channel> channel;
    typename Service::Stub stub;
  };
  Entry& get(ChannelCache& channels, const Endpoint& e) {
    if (Entry* p = entry_.load(std::memory_order_acquire)) return *p;
    std::lock_guard<std::mutex> lock(mu_);
    if (!owned_) {
      owned_ = std::make_unique<Entry>(channels.get(e));
      entry_.store(owned_.get(), std::memory_order_release);
    }
    return *owned_;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<Entry> owned_;
  std::atomic<Entry*> entry_{nullptr};
};

// `cpp:<client>:<library version>` (docs/wire.md §3.1).
std::string agent_header(std::string_view client);
// `cpp:<compiler>-<version>`, e.g. `cpp:gcc-12.2.0`.
std::string runtime_version_header();

// Sends `agent` and `runtime-version` on the first call only (docs/wire.md §3.2).
class FirstCallHeaders {
 public:
  explicit FirstCallHeaders(std::string client) : agent_(agent_header(client)) {}
  void apply(grpc::ClientContext& ctx) {
    if (!sent_.exchange(true)) {
      ctx.AddMetadata("agent", agent_);
      ctx.AddMetadata("runtime-version", runtime_version_header());
    }
  }

 private:
  std::string agent_;
  std::atomic<bool> sent_{false};
};

// Sets the deadline and the `authorization` header (raw key, no prefix).
void prepare_context(grpc::ClientContext& ctx, std::chrono::system_clock::time_point deadline,
                     const std::string& raw_key);

// Maps a failed status to Error (docs/wire.md §10.1), keeping the server's message.
// `what` names the call, e.g. "GenerateApiToken"; it must never contain a secret. `not_sent`
// marks a call that never had a connection to go out on (see Error::not_sent).
[[noreturn]] void throw_status(const grpc::Status& status, std::string_view what,
                               const Endpoint& endpoint, bool not_sent = false);

// Registers one call's context with the calling thread's CancelToken (if any) for the
// registration's lifetime; throws Cancelled at once when that token is already cancelled.
// Declare it right after the context, so it is destroyed before the context is.
class CallRegistration {
 public:
  CallRegistration(grpc::ClientContext& ctx, std::string_view what);
  ~CallRegistration();
  CallRegistration(const CallRegistration&) = delete;
  CallRegistration& operator=(const CallRegistration&) = delete;

 private:
  CancelToken* token_;
  grpc::ClientContext* ctx_;
};

// The same for an asynchronous call, with the token it was given (nullptr: the starting
// thread's). Never throws: a token already cancelled cancels the context, so the call completes
// with CANCELLED. Keeps the token's state alive; declare it after the context, so it is
// destroyed first.
class AsyncRegistration {
 public:
  AsyncRegistration(grpc::ClientContext& ctx, CancelToken* token);
  ~AsyncRegistration();
  AsyncRegistration(const AsyncRegistration&) = delete;
  AsyncRegistration& operator=(const AsyncRegistration&) = delete;

 private:
  std::shared_ptr<CancelToken::State> state_;
  grpc::ClientContext* ctx_;
};

// What an asynchronous call puts on async_queue(): complete() runs once, on the queue's thread,
// when the call has finished (the status is in the call), and disposes of the call.
struct AsyncTag {
  virtual ~AsyncTag() = default;
  virtual void complete() noexcept = 0;
};

// The starting thread hands a call to the queue's thread through gRPC's completion queue, whose
// locks ThreadSanitizer cannot see (Debian's gRPC is not instrumented). Under TSan these two tell
// it about that one hand-off: everything written to the tag before it goes in happens before
// complete() reads it. Without TSan they compile to nothing.
#if defined(__SANITIZE_THREAD__)
#define MOMENTO_TSAN_HANDOFF 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MOMENTO_TSAN_HANDOFF 1
#endif
#endif
#ifdef MOMENTO_TSAN_HANDOFF
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void handing_to_queue(AsyncTag* tag) { __tsan_release(tag); }
inline void taken_from_queue(AsyncTag* tag) { __tsan_acquire(tag); }
#else
inline void handing_to_queue(AsyncTag*) {}
inline void taken_from_queue(AsyncTag*) {}
#endif

// The completion queue of every asynchronous call of the process and the one thread that
// drains it, started on first use. That thread waits on the calls' connections itself, so an
// answer costs one thread wake-up, as a blocking call does. It lives until the process exits:
// ending it would mean waiting for the calls in flight.
grpc::CompletionQueue& async_queue();

}  // namespace momento::auth::detail
