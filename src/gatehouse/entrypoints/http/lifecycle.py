"""Routes of email verification and password reset under `/auth`."""

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from gatehouse.application.use_cases.email_verification import (
    ResendVerification,
    ResendVerificationByEmail,
    VerifyEmail,
)
from gatehouse.application.use_cases.password_reset import ConfirmPasswordReset, RequestPasswordReset
from gatehouse.domain.values import Email
from gatehouse.entrypoints.http.auth import OPTIONAL_BEARER, optional_actor
from gatehouse.entrypoints.http.body import decode_body
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.lifecycle_schemas import (
    AcceptedOut,
    EmailIn,
    PasswordResetConfirmIn,
    VerifyEmailIn,
)
from gatehouse.entrypoints.http.openapi import describe, json_body
from gatehouse.entrypoints.http.problems import BodyValidationError

AnyRequest = Request[Any, Any, Any]
TAG = ["account lifecycle"]
NO_STORE = {"Cache-Control": "no-store"}
RESENT = "A new verification mail is on its way."
RESENT_IF_ANY = "If an unverified account has this email address, a new verification mail is on its way."
RESET_IF_ANY = "If an active account has this email address, a password-reset mail is on its way."
RESEND_DOC = describe(
    f"With a bearer token: {describe(ResendVerification.__doc__)}",
    f'Without one, with `{{"email"}}`: {describe(ResendVerificationByEmail.__doc__)}',
)


def accepted(message: str) -> Response[AcceptedOut]:
    return Response(AcceptedOut(status="accepted", message=message), status_code=202, headers=NO_STORE)


@post(
    "/auth/verify-email",
    status_code=204,
    operation_class=json_body(VerifyEmailIn),
    tags=TAG,
    summary="Confirm an email address",
    responses=errors(400, 413, 422, 429, 503),
    description=describe(VerifyEmail.__doc__),
)
async def verify_email(request: AnyRequest, verify_email: NamedDependency[VerifyEmail]) -> None:
    body = await decode_body(request, VerifyEmailIn)
    await verify_email.execute(body.token)


@post(
    "/auth/verify-email/resend",
    status_code=202,
    operation_class=json_body(EmailIn, required=False),
    tags=TAG,
    summary="Send a new verification mail",
    security=OPTIONAL_BEARER,
    responses=errors(400, 401, 409, 413, 422, 429, 503),
    description=RESEND_DOC,
)
async def resend_verification(
    request: AnyRequest,
    resend_verification: NamedDependency[ResendVerification],
    resend_verification_by_email: NamedDependency[ResendVerificationByEmail],
) -> Response[AcceptedOut]:
    actor = await optional_actor(request)
    if actor is not None:
        # Signed in: the account is the caller's own; a body, if any, must still be valid, by the
        # same rules as without a token (its email well-formed too: 422).
        if await _has_body(request):
            Email((await decode_body(request, EmailIn)).email)
        await resend_verification.execute(actor)
        return accepted(RESENT)
    if not await _has_body(request):
        raise BodyValidationError("email", "Missing required field (or send a bearer token)")
    body = await decode_body(request, EmailIn)
    await resend_verification_by_email.execute(body.email)
    return accepted(RESENT_IF_ANY)


@post(
    "/auth/password-reset",
    status_code=202,
    operation_class=json_body(EmailIn),
    tags=TAG,
    summary="Ask for a password-reset mail",
    responses=errors(400, 413, 422, 429, 503),
    description=describe(RequestPasswordReset.__doc__),
)
async def request_password_reset(
    request: AnyRequest, request_password_reset: NamedDependency[RequestPasswordReset]
) -> Response[AcceptedOut]:
    body = await decode_body(request, EmailIn)
    await request_password_reset.execute(body.email)
    return accepted(RESET_IF_ANY)


@post(
    "/auth/password-reset/confirm",
    status_code=204,
    operation_class=json_body(PasswordResetConfirmIn),
    tags=TAG,
    summary="Set a new password with a reset token",
    responses=errors(400, 413, 422, 429, 503),
    description=describe(ConfirmPasswordReset.__doc__),
)
async def confirm_password_reset(
    request: AnyRequest, confirm_password_reset: NamedDependency[ConfirmPasswordReset]
) -> None:
    body = await decode_body(request, PasswordResetConfirmIn)
    await confirm_password_reset.execute(
        ConfirmPasswordReset.Command(token=body.token, new_password=body.new_password)
    )


async def _has_body(request: AnyRequest) -> bool:
    return bool((await request.body()).strip())


ROUTES = [verify_email, resend_verification, request_password_reset, confirm_password_reset]
