// Fault injection through request metadata, for testing clients against failures. Only when the
// server runs with --enable-faults, and only for callers it authenticates (server.cpp).
//
// Headers (names as Momento's local emulator uses them, plus one of ours):
//   request-id        groups calls for the counters below (absent: one shared group)
//   return-error      gRPC status to answer with: name ("unavailable", "deadline-exceeded",
//                     "DEADLINE_EXCEEDED", ...) or number
//   error-rpcs        RPCs the error applies to, separated by spaces or commas; absent = all
//   error-count       how many matching calls of this request-id fail; absent = every call
//   delay-ms          delay before handling the call
//   delay-rpcs        RPCs the delay applies to; absent = all
//   delay-count       how many matching calls are delayed; absent = every call
//   commit-then-error [extension] run the call (commit its effect, e.g. a refresh) and then
//                     answer with this status instead of the result; obeys error-rpcs and
//                     error-count like return-error
// RPC names are compared case-insensitively with '-' and '_' ignored, against the method
// name alone ("get", "refresh-api-token", "RefreshApiToken") or the full path.
#pragma once

#include <grpcpp/support/status.h>
#include <grpcpp/support/string_ref.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace momento::server {

std::optional<grpc::StatusCode> parse_status_code(std::string_view s);
const char* status_code_name(grpc::StatusCode c) noexcept;

struct FaultPlan {
  std::chrono::milliseconds delay{0};
  std::optional<grpc::StatusCode> error;         // answer with this before running the call
  std::optional<grpc::StatusCode> after_commit;  // run the call, then answer with this
  std::string describe() const;                  // for the log; empty if nothing
  bool empty() const { return delay.count() == 0 && !error && !after_commit; }
};

class Faults {
 public:
  // True when the metadata asks for a fault (return-error, commit-then-error or delay-ms).
  static bool requested(const std::multimap<grpc::string_ref, grpc::string_ref>& md);

  // `method_path` like "/cache_client.Scs/Get". Bad header values are ignored (a fault
  // header can never break a call by itself).
  FaultPlan plan(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                 std::string_view method_path);

 private:
  std::mutex mu_;
  struct Counters {
    int errors = 0;
    int delays = 0;
  };
  std::unordered_map<std::string, Counters> counters_;  // by request-id (bounded, see .cpp)
};

}  // namespace momento::server
