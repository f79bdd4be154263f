// Error model shared by every layer: the canonical codes of docs/wire.md §10.1.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace momento::auth {

enum class ErrorCode {
  InvalidArgument,          // INVALID_ARGUMENT_ERROR
  Authentication,           // AUTHENTICATION_ERROR
  Permission,               // PERMISSION_ERROR
  NotFound,                 // NOT_FOUND_ERROR
  AlreadyExists,            // ALREADY_EXISTS_ERROR
  LimitExceeded,            // LIMIT_EXCEEDED_ERROR
  FailedPrecondition,       // FAILED_PRECONDITION_ERROR
  Cancelled,                // CANCELLED_ERROR
  Timeout,                  // TIMEOUT_ERROR
  ServerUnavailable,        // SERVER_UNAVAILABLE
  InternalServer,           // INTERNAL_SERVER_ERROR
  UnknownService,           // UNKNOWN_SERVICE_ERROR
  BadRequest,               // BAD_REQUEST_ERROR
  Connection,               // CONNECTION_ERROR
  ClientResourceExhausted,  // CLIENT_RESOURCE_EXHAUSTED
  Unknown,                  // UNKNOWN_ERROR
};

// The canonical name, e.g. "PERMISSION_ERROR".
const char* error_code_name(ErrorCode code) noexcept;

// docs/wire.md §10.1: gRPC status number -> canonical code.
ErrorCode error_code_from_grpc(int grpc_status) noexcept;

// Whether a caller may sensibly try the same call again later (transient failures).
bool error_code_retryable(ErrorCode code) noexcept;

// Every failure in core is thrown as this type. Messages never contain secrets.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, int grpc_status = -1, bool not_sent = false)
      : std::runtime_error(std::move(message)), code_(code), grpc_status_(grpc_status), not_sent_(not_sent) {}

  ErrorCode code() const noexcept { return code_; }
  // The gRPC status number when an RPC was made, otherwise -1.
  int grpc_status() const noexcept { return grpc_status_; }
  bool retryable() const noexcept { return error_code_retryable(code_); }
  // True when the request never left this process (no connection to the server could be made),
  // so the server cannot have acted on it. False means it may have: an answer can be lost after
  // the server committed.
  bool not_sent() const noexcept { return not_sent_; }

 private:
  ErrorCode code_;
  int grpc_status_;
  bool not_sent_;
};

[[noreturn]] inline void throw_invalid(std::string message) {
  throw Error(ErrorCode::InvalidArgument, std::move(message));
}

}  // namespace momento::auth
