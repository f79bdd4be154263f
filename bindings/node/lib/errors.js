'use strict';
// MomentoError and one subclass per canonical error code (docs/wire.md section 10.1). The code,
// the message and the retryable flag come from the library; this file only names the classes.

class MomentoError extends Error {
  constructor(message, { code = 'UNKNOWN_ERROR', retryable = false, grpcStatus = -1 } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    this.grpcStatus = grpcStatus;
  }
}

const CLASSES = {};
function define(name, code) {
  const cls = { [name]: class extends MomentoError {} }[name];
  CLASSES[code] = cls;
  return cls;
}

const InvalidArgumentError = define('InvalidArgumentError', 'INVALID_ARGUMENT_ERROR');
const AuthenticationError = define('AuthenticationError', 'AUTHENTICATION_ERROR');
const PermissionError = define('PermissionError', 'PERMISSION_ERROR');
const NotFoundError = define('NotFoundError', 'NOT_FOUND_ERROR');
const AlreadyExistsError = define('AlreadyExistsError', 'ALREADY_EXISTS_ERROR');
const LimitExceededError = define('LimitExceededError', 'LIMIT_EXCEEDED_ERROR');
const FailedPreconditionError = define('FailedPreconditionError', 'FAILED_PRECONDITION_ERROR');
const CancelledError = define('CancelledError', 'CANCELLED_ERROR');
const TimeoutError = define('TimeoutError', 'TIMEOUT_ERROR');
const ServerUnavailableError = define('ServerUnavailableError', 'SERVER_UNAVAILABLE');
const InternalServerError = define('InternalServerError', 'INTERNAL_SERVER_ERROR');
const UnknownServiceError = define('UnknownServiceError', 'UNKNOWN_SERVICE_ERROR');
const BadRequestError = define('BadRequestError', 'BAD_REQUEST_ERROR');
const ConnectionError = define('ConnectionError', 'CONNECTION_ERROR');
const ClientResourceExhaustedError = define('ClientResourceExhaustedError', 'CLIENT_RESOURCE_EXHAUSTED');
const UnknownError = define('UnknownError', 'UNKNOWN_ERROR');

function errorFor(code, message, extra = {}) {
  const cls = CLASSES[code] || UnknownError;
  return new cls(message, { code: CLASSES[code] ? code : 'UNKNOWN_ERROR', ...extra });
}

function invalidArgument(message) {
  return new InvalidArgumentError(message, { code: 'INVALID_ARGUMENT_ERROR' });
}

module.exports = {
  MomentoError, errorFor, invalidArgument,
  InvalidArgumentError, AuthenticationError, PermissionError, NotFoundError, AlreadyExistsError,
  LimitExceededError, FailedPreconditionError, CancelledError, TimeoutError,
  ServerUnavailableError, InternalServerError, UnknownServiceError, BadRequestError,
  ConnectionError, ClientResourceExhaustedError, UnknownError,
};
