// Canonical error codes (docs/wire.md §10.1).
#include "momento/auth/error.hpp"

namespace momento::auth {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "INVALID_ARGUMENT_ERROR";
    case ErrorCode::Authentication: return "AUTHENTICATION_ERROR";
    case ErrorCode::Permission: return "PERMISSION_ERROR";
    case ErrorCode::NotFound: return "NOT_FOUND_ERROR";
    case ErrorCode::AlreadyExists: return "ALREADY_EXISTS_ERROR";
    case ErrorCode::LimitExceeded: return "LIMIT_EXCEEDED_ERROR";
    case ErrorCode::FailedPrecondition: return "FAILED_PRECONDITION_ERROR";
    case ErrorCode::Cancelled: return "CANCELLED_ERROR";
    case ErrorCode::Timeout: return "TIMEOUT_ERROR";
    case ErrorCode::ServerUnavailable: return "SERVER_UNAVAILABLE";
    case ErrorCode::InternalServer: return "INTERNAL_SERVER_ERROR";
    case ErrorCode::UnknownService: return "UNKNOWN_SERVICE_ERROR";
    case ErrorCode::BadRequest: return "BAD_REQUEST_ERROR";
    case ErrorCode::Connection: return "CONNECTION_ERROR";
    case ErrorCode::ClientResourceExhausted: return "CLIENT_RESOURCE_EXHAUSTED";
    case ErrorCode::Unknown: return "UNKNOWN_ERROR";
  }
  return "UNKNOWN_ERROR";
}

ErrorCode error_code_from_grpc(int grpc_status) noexcept {
  // Numbers are the gRPC status codes; kept numeric so core does not depend on grpc headers.
  switch (grpc_status) {
    case 1: return ErrorCode::Cancelled;            // CANCELLED
    case 2: return ErrorCode::UnknownService;       // UNKNOWN
    case 3: return ErrorCode::InvalidArgument;      // INVALID_ARGUMENT
    case 4: return ErrorCode::Timeout;              // DEADLINE_EXCEEDED
    case 5: return ErrorCode::NotFound;             // NOT_FOUND
    case 6: return ErrorCode::AlreadyExists;        // ALREADY_EXISTS
    case 7: return ErrorCode::Permission;           // PERMISSION_DENIED
    case 8: return ErrorCode::LimitExceeded;        // RESOURCE_EXHAUSTED
    case 9: return ErrorCode::FailedPrecondition;   // FAILED_PRECONDITION
    case 10: return ErrorCode::InternalServer;      // ABORTED
    case 11: return ErrorCode::BadRequest;          // OUT_OF_RANGE
    case 12: return ErrorCode::BadRequest;          // UNIMPLEMENTED
    case 13: return ErrorCode::InternalServer;      // INTERNAL
    case 14: return ErrorCode::ServerUnavailable;   // UNAVAILABLE
    case 15: return ErrorCode::InternalServer;      // DATA_LOSS
    case 16: return ErrorCode::Authentication;      // UNAUTHENTICATED
    default: return ErrorCode::Unknown;             // OK (0) is not an error; anything else unknown
  }
}

bool error_code_retryable(ErrorCode code) noexcept {
  switch (code) {
    // Transient conditions: the same call may succeed later. InternalServer is included because
    // docs/wire.md §10.2 treats INTERNAL as retry-eligible for idempotent data calls; whether a given
    // RPC is actually retried is decided by the caller (Auth/Token RPCs never are).
    case ErrorCode::Timeout:
    case ErrorCode::ServerUnavailable:
    case ErrorCode::Connection:
    case ErrorCode::InternalServer:
    case ErrorCode::LimitExceeded:
    case ErrorCode::Cancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace momento::auth
