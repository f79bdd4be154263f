"""The exception hierarchy: one class per canonical error code of the wire contract.

Every exception raised by momento_auth derives from :class:`MomentoError`. Where a Python builtin
means the same thing, the class derives from it too, so ``except ValueError`` or
``except TimeoutError`` catches our errors as well.
"""

from __future__ import annotations

import builtins
from typing import Dict, Optional, Type

__all__ = [
    "MomentoError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "AlreadyExistsError",
    "LimitExceededError",
    "FailedPreconditionError",
    "CancelledError",
    "MomentoTimeoutError",
    "ServerUnavailableError",
    "InternalServerError",
    "UnknownServiceError",
    "BadRequestError",
    "MomentoConnectionError",
    "ClientResourceExhaustedError",
    "UnknownError",
]


class MomentoError(Exception):
    """Base class of every error raised by momento_auth.

    Attributes:
        code: the canonical error-code name, e.g. ``"PERMISSION_ERROR"``.
        message: a human-readable description; it never contains a secret.
        grpc_status: the gRPC status number when a request reached the network, else ``None``.
        retryable: True when the same call may succeed if tried again later.
    """

    #: The canonical code this class stands for.
    CODE = "UNKNOWN_ERROR"

    code: str
    message: str
    grpc_status: Optional[int]
    retryable: bool

    def __init__(self, message: str = "", *args: object) -> None:
        # OSError-derived subclasses read positional arguments as (errno, strerror); only the
        # message is ever passed positionally, the details are attributes.
        super().__init__(message, *args)
        self.message = message
        self.code = type(self).CODE
        self.grpc_status = None
        self.retryable = False

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"grpc_status={self.grpc_status!r}, retryable={self.retryable!r})"
        )


class InvalidArgumentError(MomentoError, ValueError):
    """An argument was rejected, by this library before sending anything or by the service."""

    CODE = "INVALID_ARGUMENT_ERROR"


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument of the wrong type: a TypeError, and an InvalidArgumentError as before."""


class AuthenticationError(MomentoError, builtins.PermissionError):
    """The credential is unknown, malformed, revoked or expired, or a refresh token is wrong."""

    CODE = "AUTHENTICATION_ERROR"


class PermissionDeniedError(MomentoError, builtins.PermissionError):
    """The credential is valid but its scope does not allow the operation."""

    CODE = "PERMISSION_ERROR"


class NotFoundError(MomentoError, LookupError):
    """The named resource does not exist."""

    CODE = "NOT_FOUND_ERROR"


class AlreadyExistsError(MomentoError):
    """The resource to create exists already."""

    CODE = "ALREADY_EXISTS_ERROR"


class LimitExceededError(MomentoError):
    """An account or request limit was exceeded."""

    CODE = "LIMIT_EXCEEDED_ERROR"


class FailedPreconditionError(MomentoError):
    """The system is not in a state that allows the operation (for example, a closed client)."""

    CODE = "FAILED_PRECONDITION_ERROR"


class CancelledError(MomentoError):
    """The request was cancelled."""

    CODE = "CANCELLED_ERROR"


class MomentoTimeoutError(MomentoError, builtins.TimeoutError):
    """The call's deadline passed before the service answered."""

    CODE = "TIMEOUT_ERROR"


class ServerUnavailableError(MomentoError, builtins.ConnectionError):
    """The service could not be reached or is temporarily unavailable."""

    CODE = "SERVER_UNAVAILABLE"


class InternalServerError(MomentoError):
    """The service failed while handling the request."""

    CODE = "INTERNAL_SERVER_ERROR"


class UnknownServiceError(MomentoError):
    """The service answered with an unknown status."""

    CODE = "UNKNOWN_SERVICE_ERROR"


class BadRequestError(MomentoError):
    """The service does not implement the request or a value is out of range."""

    CODE = "BAD_REQUEST_ERROR"


class MomentoConnectionError(MomentoError, builtins.ConnectionError):
    """A connection to the service could not be set up (for example, TLS configuration)."""

    CODE = "CONNECTION_ERROR"


class ClientResourceExhaustedError(MomentoError):
    """This process ran out of a resource (memory, threads) while making the call."""

    CODE = "CLIENT_RESOURCE_EXHAUSTED"


class UnknownError(MomentoError):
    """An error that fits no other class."""

    CODE = "UNKNOWN_ERROR"


# One class per code: the direct subclasses (InvalidArgumentTypeError shares its parent's code).
_BY_CODE: Dict[str, Type[MomentoError]] = {cls.CODE: cls for cls in MomentoError.__subclasses__()}


def make_error(code: str, message: str, grpc_status: int, retryable: bool) -> MomentoError:
    """Builds the exception for a failure reported by the native library."""
    err = _BY_CODE.get(code, UnknownError)(message)  # UnknownError for codes not in the table
    err.code = code
    err.grpc_status = grpc_status if grpc_status >= 0 else None
    err.retryable = bool(retryable)
    return err


def invalid_argument(message: str) -> InvalidArgumentError:
    """An InvalidArgumentError raised by the Python layer's own checks."""
    return InvalidArgumentError(message)


def wrong_type(what: str, expected: str, value: object) -> InvalidArgumentTypeError:
    """The error for an argument of the wrong type (it never shows the value itself)."""
    return InvalidArgumentTypeError(f"{what} must be {expected}, got {type(value).__name__}")


def check_type(value: object, types: object, what: str, expected: str) -> None:
    """Raises wrong_type unless value is an instance of types (a bool counts only as a bool)."""
    if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):  # type: ignore[arg-type]
        raise wrong_type(what, expected, value)
