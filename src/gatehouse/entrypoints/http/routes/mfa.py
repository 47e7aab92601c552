"""Routes of multi-factor authentication: one's own (`/users/me/mfa…`) and an admin's reset."""

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response, delete, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from gatehouse.application.use_cases.mfa import (
    CodeCommand,
    ConfirmTotpEnrolment,
    DisableMfa,
    RenewRecoveryCodes,
    ResetMfa,
    StartTotpEnrolment,
)
from gatehouse.entrypoints.http.auth import ENROLMENT_ROUTE, require_actor
from gatehouse.entrypoints.http.body import decode_body
from gatehouse.entrypoints.http.ids import UserIdPath, parse_id
from gatehouse.entrypoints.http.openapi import json_body
from gatehouse.entrypoints.http.route_docs import documented_by
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


def own_mfa_route(
    route: Callable[..., HTTPRouteHandler],
    path: str,
    body: type[msgspec.Struct],
    use_case: type,
    summary: str,
    status_code: int = 200,
) -> HTTPRouteHandler:
    """A route of one's own MFA: a JSON body, a bearer token (one still enrolling may use it)."""
    return route(
        path,
        status_code=status_code,
        operation_class=json_body(body),
        summary=summary,
        **documented_by(use_case, 400, 401, 403, 409, 413, 422, 429, 503, tags=TAG),
        opt=ENROLMENT_ROUTE,
    )


async def new_codes(
    request: AnyRequest, use_case: ConfirmTotpEnrolment | RenewRecoveryCodes
) -> Response[RecoveryCodesOut]:
    """The recovery codes `use_case` shows this once for a code of the caller's app."""
    actor = await require_actor(request)
    body = await decode_body(request, CodeIn)
    codes = await use_case.execute(CodeCommand(actor=actor, code=body.code))
    return Response(RecoveryCodesOut(recovery_codes=list(codes.codes)), headers=NO_STORE)


@own_mfa_route(post, "/users/me/mfa/totp", PasswordIn, StartTotpEnrolment, "Start enrolling a TOTP app")
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


@own_mfa_route(
    post,
    "/users/me/mfa/totp/confirm",
    CodeIn,
    ConfirmTotpEnrolment,
    "Confirm the TOTP app with a code: MFA is on",
)
async def confirm_totp_enrolment(
    request: AnyRequest, confirm_totp_enrolment: NamedDependency[ConfirmTotpEnrolment]
) -> Response[RecoveryCodesOut]:
    return await new_codes(request, confirm_totp_enrolment)


@own_mfa_route(
    post, "/users/me/mfa/recovery-codes", CodeIn, RenewRecoveryCodes, "Replace one's recovery codes"
)
async def renew_recovery_codes(
    request: AnyRequest, renew_recovery_codes: NamedDependency[RenewRecoveryCodes]
) -> Response[RecoveryCodesOut]:
    return await new_codes(request, renew_recovery_codes)


@own_mfa_route(delete, "/users/me/mfa", DisableMfaIn, DisableMfa, "Turn one's MFA off", status_code=204)
async def disable_mfa(request: AnyRequest, disable_mfa: NamedDependency[DisableMfa]) -> None:
    actor = await require_actor(request)
    body = await decode_body(request, DisableMfaIn)
    await disable_mfa.execute(DisableMfa.Command(actor=actor, password=body.password, code=body.code))


@delete(
    "/users/{user_id:str}/mfa",
    status_code=204,
    summary="Reset an account's MFA (admin)",
    **documented_by(ResetMfa, 400, 401, 403, 404, 429, 503, tags=TAG),
)
async def reset_mfa(request: AnyRequest, reset_mfa: NamedDependency[ResetMfa], user_id: UserIdPath) -> None:
    actor = await require_actor(request)
    await reset_mfa.execute(ResetMfa.Command(actor=actor, user_id=parse_id(user_id)))


ROUTES = [start_totp_enrolment, confirm_totp_enrolment, renew_recovery_codes, disable_mfa, reset_mfa]
