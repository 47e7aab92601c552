"""Routes of multi-factor authentication: one's own (`/users/me/mfa…`) and an admin's reset."""

from typing import Any

from litestar import Request, Response, delete, post
from litestar.di import NamedDependency

from gatehouse.application.use_cases.mfa import (
    ConfirmTotpEnrolment,
    DisableMfa,
    RenewRecoveryCodes,
    ResetMfa,
    StartTotpEnrolment,
)
from gatehouse.entrypoints.http.auth import BEARER_SECURITY, ENROLMENT_ROUTE, require_actor
from gatehouse.entrypoints.http.body import decode_body
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.ids import UserIdPath, parse_id
from gatehouse.entrypoints.http.openapi import describe, json_body
from gatehouse.entrypoints.http.schemas.mfa import (
    CodeIn,
    DisableMfaIn,
    PasswordIn,
    RecoveryCodesOut,
    TotpEnrolmentOut,
)

AnyRequest = Request[Any, Any, Any]
TAG = ["multi-factor authentication"]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@post(
    "/users/me/mfa/totp",
    status_code=200,
    operation_class=json_body(PasswordIn),
    tags=TAG,
    summary="Start enrolling a TOTP app",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 409, 413, 422, 429, 503),
    description=describe(StartTotpEnrolment.__doc__),
    opt=ENROLMENT_ROUTE,
)
async def start_totp_enrolment(
    request: AnyRequest, start_totp_enrolment: NamedDependency[StartTotpEnrolment]
) -> Response[TotpEnrolmentOut]:
    actor = await require_actor(request)
    body = await decode_body(request, PasswordIn)
    pending = await start_totp_enrolment.execute(
        StartTotpEnrolment.Command(actor=actor, password=body.password)
    )
    return Response(
        TotpEnrolmentOut(secret=pending.secret, otpauth_uri=pending.otpauth_uri), headers=NO_STORE
    )


@post(
    "/users/me/mfa/totp/confirm",
    status_code=200,
    operation_class=json_body(CodeIn),
    tags=TAG,
    summary="Confirm the TOTP app with a code: MFA is on",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 409, 413, 422, 429, 503),
    description=describe(ConfirmTotpEnrolment.__doc__),
    opt=ENROLMENT_ROUTE,
)
async def confirm_totp_enrolment(
    request: AnyRequest, confirm_totp_enrolment: NamedDependency[ConfirmTotpEnrolment]
) -> Response[RecoveryCodesOut]:
    actor = await require_actor(request)
    body = await decode_body(request, CodeIn)
    codes = await confirm_totp_enrolment.execute(ConfirmTotpEnrolment.Command(actor=actor, code=body.code))
    return Response(RecoveryCodesOut(recovery_codes=list(codes.codes)), headers=NO_STORE)


@post(
    "/users/me/mfa/recovery-codes",
    status_code=200,
    operation_class=json_body(CodeIn),
    tags=TAG,
    summary="Replace one's recovery codes",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 409, 413, 422, 429, 503),
    description=describe(RenewRecoveryCodes.__doc__),
    opt=ENROLMENT_ROUTE,
)
async def renew_recovery_codes(
    request: AnyRequest, renew_recovery_codes: NamedDependency[RenewRecoveryCodes]
) -> Response[RecoveryCodesOut]:
    actor = await require_actor(request)
    body = await decode_body(request, CodeIn)
    codes = await renew_recovery_codes.execute(RenewRecoveryCodes.Command(actor=actor, code=body.code))
    return Response(RecoveryCodesOut(recovery_codes=list(codes.codes)), headers=NO_STORE)


@delete(
    "/users/me/mfa",
    status_code=204,
    operation_class=json_body(DisableMfaIn),
    tags=TAG,
    summary="Turn one's MFA off",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 409, 413, 422, 429, 503),
    description=describe(DisableMfa.__doc__),
    opt=ENROLMENT_ROUTE,
)
async def disable_mfa(request: AnyRequest, disable_mfa: NamedDependency[DisableMfa]) -> None:
    actor = await require_actor(request)
    body = await decode_body(request, DisableMfaIn)
    await disable_mfa.execute(DisableMfa.Command(actor=actor, password=body.password, code=body.code))


@delete(
    "/users/{user_id:str}/mfa",
    status_code=204,
    tags=TAG,
    summary="Reset an account's MFA (admin)",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 404, 429, 503),
    description=describe(ResetMfa.__doc__),
)
async def reset_mfa(request: AnyRequest, reset_mfa: NamedDependency[ResetMfa], user_id: UserIdPath) -> None:
    actor = await require_actor(request)
    await reset_mfa.execute(ResetMfa.Command(actor=actor, user_id=parse_id(user_id)))


ROUTES = [start_totp_enrolment, confirm_totp_enrolment, renew_recovery_codes, disable_mfa, reset_mfa]
