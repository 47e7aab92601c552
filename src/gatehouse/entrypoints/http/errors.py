"""The one table from errors to statuses, and the envelope every error response carries."""

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.exceptions import ValidationException as LitestarValidationException

from gatehouse.application.errors import (
    AuthenticationError,
    ConflictError,
    InvalidCodeError,
    InvalidTokenError,
    MfaRequiredError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    ServiceUnavailableError,
)
from gatehouse.domain.errors import (
    IllegalTransitionError,
    InvalidValueError,
    LastAdminError,
    MfaEnrollmentRequiredError,
    PermissionDeniedError,
)
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.problems import BadRequestError, BodyValidationError, FieldProblem

log = logging.getLogger("gatehouse.http")

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    BadRequestError: (400, "BadRequestError"),
    InvalidTokenError: (400, "BadRequestError"),
    InvalidCodeError: (400, "BadRequestError"),
    MfaRequiredError: (403, "MfaRequiredError"),
    MfaEnrollmentRequiredError: (403, "MfaEnrollmentRequiredError"),
    AuthenticationError: (401, "AuthenticationError"),
    PermissionDeniedError: (403, "PermissionDeniedError"),
    NotFoundError: (404, "NotFoundError"),
    ConflictError: (409, "ConflictError"),
    LastAdminError: (409, "ConflictError"),
    IllegalTransitionError: (409, "ConflictError"),
    PreconditionFailedError: (412, "PreconditionFailedError"),
    BodyValidationError: (422, "ValidationError"),
    InvalidValueError: (422, "ValidationError"),
    RateLimitedError: (429, "RateLimitError"),
    ServiceUnavailableError: (503, "ServiceUnavailableError"),
}
STATUS_NAMES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    412: "PreconditionFailedError",
    413: "PayloadTooLargeError",
    422: "ValidationError",
    429: "RateLimitError",
    431: "RequestHeaderFieldsTooLargeError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}
INTERNAL_MESSAGE = "An unexpected error occurred; quote the request id when reporting it"


class ErrorDetail(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """The envelope of every error response."""

    error: str
    message: str
    path: str
    request_id: str
    details: list[ErrorDetail] | None = None
    # Only on `MfaRequiredError`: the second step's token and its seconds to live (CONTRACT §12).
    mfa_token: str | None = None
    expires_in: int | None = None


def error_body(scope: Any, status: int, message: str, details: list[FieldProblem] | None = None) -> ErrorBody:
    ctx = context_of(scope)
    return ErrorBody(
        error=STATUS_NAMES.get(status, "InternalServerError" if status >= 500 else "BadRequestError"),
        message=message,
        path=ctx.path,
        request_id=ctx.request_id,
        details=[ErrorDetail(d.field, d.message) for d in details] if details else None,
    )


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Every exception, ours or the framework's, becomes the envelope with the right status."""
    status, message, details, headers = _classify(exc)
    if status >= 500 and not isinstance(exc, ServiceUnavailableError):
        log.error(
            "api_error",
            exc_info=exc,
            extra={"event": "api_error", "request_id": context_of(request.scope).request_id},
        )
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if status in (429, 503) and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    body = error_body(request.scope, status, message, details)
    named = _named(exc)
    if named is not None:
        body.error = named
    if isinstance(exc, MfaRequiredError):
        body.mfa_token, body.expires_in = exc.mfa_token, exc.expires_in
        headers["Cache-Control"] = "no-store"
    return Response(body, status_code=status, headers=headers)


def _named(exc: Exception) -> str | None:
    """The contract's own error name where one status has several (403: MFA ones)."""
    for kind in (MfaRequiredError, MfaEnrollmentRequiredError):
        if isinstance(exc, kind):
            return ERROR_STATUSES[kind][1]
    return None


def _classify(exc: Exception) -> tuple[int, str, list[FieldProblem] | None, dict[str, str]]:
    for kind in type(exc).__mro__:
        if kind in ERROR_STATUSES:
            status = ERROR_STATUSES[kind][0]
            details = getattr(exc, "details", None)
            if isinstance(exc, InvalidValueError):
                details = [FieldProblem(exc.field, exc.message)]
            return status, str(getattr(exc, "message", exc)), details, {}
    if isinstance(exc, LitestarValidationException):
        return 400, "Invalid request parameters", _parameter_problems(exc.extra), {}
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return exc.status_code, _framework_message(exc), None, dict(exc.headers or {})
    return 500, INTERNAL_MESSAGE, None, {}


def _framework_message(exc: HTTPException) -> str:
    if exc.status_code == 404:
        return "No such resource or route"
    if exc.status_code == 405:
        return "Method not allowed on this resource"
    if exc.status_code == 413:
        return "Request body is larger than 1 MiB"
    return str(exc.detail)


def _parameter_problems(extra: Any) -> list[FieldProblem] | None:
    if not isinstance(extra, list):
        return None
    problems = [
        FieldProblem(str(item.get("key", "")), str(item.get("message", "Invalid value")))
        for item in extra
        if isinstance(item, dict)
    ]
    return problems or None
