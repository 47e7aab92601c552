"""Routes of `/auth`: log in, refresh, log out; email verification and password reset."""

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from gatehouse.application.use_cases.email_verification import (
    ResendVerification,
    ResendVerificationByEmail,
    VerifyEmail,
)
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.mfa_login import CompleteMfaLogin
from gatehouse.application.use_cases.password_reset import ConfirmPasswordReset, RequestPasswordReset
from gatehouse.application.use_cases.sessions import Logout, RefreshSession, TokenPair
from gatehouse.domain.values import Email
from gatehouse.entrypoints.http.auth import (
    ENROLMENT_ROUTE,
    OPTIONAL_BEARER,
    optional_actor,
    require_actor,
)
from gatehouse.entrypoints.http.body import decode_body, decode_form
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.openapi import JSON, describe, documented, json_body
from gatehouse.entrypoints.http.problems import BodyValidationError
from gatehouse.entrypoints.http.route_docs import documented_by
from gatehouse.entrypoints.http.schemas.auth import (
    AcceptedOut,
    EmailIn,
    LoginForm,
    LoginIn,
    LogoutIn,
    PasswordResetConfirmIn,
    RefreshIn,
    TokenOut,
    VerifyEmailIn,
)
from gatehouse.entrypoints.http.schemas.mfa import MfaLoginIn

AnyRequest = Request[Any, Any, Any]
TOKENS_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
NO_STORE = {"Cache-Control": "no-store"}
FORM = "application/x-www-form-urlencoded"
TAG = ["auth"]
ACCOUNT_TAG = ["account lifecycle"]
RESENT = "A new verification mail is on its way."
RESENT_IF_ANY = "If an unverified account has this email address, a new verification mail is on its way."
RESET_IF_ANY = "If an active account has this email address, a password-reset mail is on its way."
RESEND_DOC = describe(
    f"With a bearer token: {describe(ResendVerification.__doc__)}",
    f'Without one, with `{{"email"}}`: {describe(ResendVerificationByEmail.__doc__)}',
)


def tokens_response(pair: TokenPair) -> Response[TokenOut]:
    body = TokenOut(
        access_token=pair.access_token,
        token_type="bearer",  # noqa: S106 - the OAuth2 token type, not a secret
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )
    return Response(body, headers=TOKENS_HEADERS)


def accepted(message: str) -> Response[AcceptedOut]:
    return Response(AcceptedOut(status="accepted", message=message), status_code=202, headers=NO_STORE)


async def credentials(request: AnyRequest) -> tuple[str, str]:
    """(identifier, password) from the JSON body or the OAuth2 password form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
        form = decode_form(await request.body(), LoginForm)
        return form.username, form.password
    body = await decode_body(request, LoginIn)
    return body.email, body.password


@post(
    "/auth/token",
    status_code=200,
    operation_class=documented((JSON, LoginIn), (FORM, LoginForm)),
    summary="Log in",
    **documented_by(Login, 400, 401, 403, 413, 422, 429, 503, tags=TAG, security=None),
)
async def issue_token(request: AnyRequest, login: NamedDependency[Login]) -> Response[TokenOut]:
    identifier, password = await credentials(request)
    ctx = context_of(request.scope)
    pair = await login.execute(
        Login.Command(
            identifier=identifier, password=password, ip=ctx.ip, user_agent=request.headers.get("user-agent")
        )
    )
    return tokens_response(pair)


@post(
    "/auth/token/mfa",
    status_code=200,
    operation_class=json_body(MfaLoginIn),
    summary="Log in, second step: the code",
    **documented_by(CompleteMfaLogin, 400, 401, 413, 422, 429, 503, tags=TAG, security=None),
)
async def issue_token_mfa(
    request: AnyRequest, complete_mfa_login: NamedDependency[CompleteMfaLogin]
) -> Response[TokenOut]:
    body = await decode_body(request, MfaLoginIn)
    ctx = context_of(request.scope)
    pair = await complete_mfa_login.execute(
        CompleteMfaLogin.Command(
            mfa_token=body.mfa_token,
            code=body.code,
            ip=ctx.ip,
            user_agent=request.headers.get("user-agent"),
        )
    )
    return tokens_response(pair)


@post(
    "/auth/refresh",
    status_code=200,
    operation_class=json_body(RefreshIn),
    summary="Trade a refresh token",
    **documented_by(RefreshSession, 400, 401, 413, 422, 429, 503, tags=TAG, security=None),
)
async def refresh_token(request: AnyRequest, refresh: NamedDependency[RefreshSession]) -> Response[TokenOut]:
    body = await decode_body(request, RefreshIn)
    return tokens_response(await refresh.execute(RefreshSession.Command(refresh_token=body.refresh_token)))


@post(
    "/auth/logout",
    status_code=204,
    operation_class=json_body(LogoutIn, required=False),
    summary="Log out",
    **documented_by(Logout, 400, 401, 403, 413, 422, 429, 503, tags=TAG),
    opt=ENROLMENT_ROUTE,
)
async def logout(request: AnyRequest, logout: NamedDependency[Logout]) -> None:
    actor = await require_actor(request)
    body = await decode_body(request, LogoutIn, allow_empty=True)
    await logout.execute(Logout.Command(actor=actor, refresh_token=body.refresh_token))


@post(
    "/auth/verify-email",
    status_code=204,
    operation_class=json_body(VerifyEmailIn),
    summary="Confirm an email address",
    **documented_by(VerifyEmail, 400, 413, 422, 429, 503, tags=ACCOUNT_TAG, security=None),
)
async def verify_email(request: AnyRequest, verify_email: NamedDependency[VerifyEmail]) -> None:
    body = await decode_body(request, VerifyEmailIn)
    await verify_email.execute(VerifyEmail.Command(token=body.token))


@post(
    "/auth/verify-email/resend",
    status_code=202,
    operation_class=json_body(EmailIn, required=False),
    tags=ACCOUNT_TAG,
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
        await resend_verification.execute(ResendVerification.Command(actor=actor))
        return accepted(RESENT)
    if not await _has_body(request):
        raise BodyValidationError("email", "Missing required field (or send a bearer token)")
    body = await decode_body(request, EmailIn)
    await resend_verification_by_email.execute(ResendVerificationByEmail.Command(email=body.email))
    return accepted(RESENT_IF_ANY)


@post(
    "/auth/password-reset",
    status_code=202,
    operation_class=json_body(EmailIn),
    summary="Ask for a password-reset mail",
    **documented_by(RequestPasswordReset, 400, 413, 422, 429, 503, tags=ACCOUNT_TAG, security=None),
)
async def request_password_reset(
    request: AnyRequest, request_password_reset: NamedDependency[RequestPasswordReset]
) -> Response[AcceptedOut]:
    body = await decode_body(request, EmailIn)
    await request_password_reset.execute(RequestPasswordReset.Command(email=body.email))
    return accepted(RESET_IF_ANY)


@post(
    "/auth/password-reset/confirm",
    status_code=204,
    operation_class=json_body(PasswordResetConfirmIn),
    summary="Set a new password with a reset token",
    **documented_by(ConfirmPasswordReset, 400, 413, 422, 429, 503, tags=ACCOUNT_TAG, security=None),
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


ROUTES = [
    issue_token_mfa,
    issue_token,
    refresh_token,
    logout,
    verify_email,
    resend_verification,
    request_password_reset,
    confirm_password_reset,
]
