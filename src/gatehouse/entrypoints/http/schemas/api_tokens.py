"""The shapes of API tokens (`/users/…/tokens`) and of introspection (`/auth/introspect`)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gatehouse.application.ports.api_tokens import ApiToken
from gatehouse.application.use_cases.api_tokens import NAME_PATTERN
from gatehouse.application.use_cases.introspection import Introspection
from gatehouse.domain.scopes import Scope, ordered
from gatehouse.entrypoints.http.openapi_document import DAYS_MARK
from gatehouse.entrypoints.http.schemas.fields import Strict

# The scopes as the domain names them (an enum in the document, 422 for any other name).
ScopeName = Scope


class ApiTokenIn(Strict):
    name: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=100,
            pattern=NAME_PATTERN,  # the rule of `token_name`
            examples=["deploy script"],
        ),
    ]
    scopes: Annotated[list[ScopeName], Meta(min_length=1, max_length=16, examples=[["profile:read"]])]
    expires_in_days: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=36_500,  # the document states the setting in force instead (openapi_document.py)
                description="1 to GATEHOUSE_API_TOKEN_MAX_DAYS (365 unless set); 30 when left out",
                extra_json_schema={DAYS_MARK: True},
            ),
        ]
        | None
    ) = None


class ApiTokenOut(msgspec.Struct):
    id: int
    name: str
    scopes: list[ScopeName]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class NewApiTokenOut(ApiTokenOut):
    """The new token with its secret: `token` is shown this once (store it now)."""

    token: Annotated[str, Meta(description="`gat_` + 40 characters + a 6-character checksum")]


class ApiTokenListOut(msgspec.Struct):
    items: list[ApiTokenOut]


def api_token_out(token: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        name=token.name,
        scopes=ordered(token.scopes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


def new_api_token_out(token: ApiToken, secret: str) -> NewApiTokenOut:
    listed = api_token_out(token)
    return NewApiTokenOut(**{f: getattr(listed, f) for f in listed.__struct_fields__}, token=secret)


class IntrospectIn(Strict):
    token: Annotated[str, Meta(min_length=1, max_length=4096)]


class IntrospectForm(msgspec.Struct, forbid_unknown_fields=False):
    """RFC 7662's form: `token`, and an optional `token_type_hint` (read, not needed)."""

    token: Annotated[str, Meta(min_length=1, max_length=4096)]
    token_type_hint: Annotated[str, Meta(max_length=64)] | None = None


class IntrospectionOut(msgspec.Struct, omit_defaults=True):
    """`active` alone when the token is not live."""

    active: bool
    sub: str | UnsetType = UNSET
    exp: int | UnsetType = UNSET
    token_type: Literal["access_token", "api_token"] | UnsetType = UNSET
    scope: str | UnsetType = UNSET


def introspection_out(result: Introspection) -> IntrospectionOut:
    if not result.active:
        return IntrospectionOut(active=False)
    return IntrospectionOut(
        active=True,
        sub=result.sub or UNSET,
        exp=result.exp if result.exp is not None else UNSET,
        token_type=result.token_type or UNSET,  # type: ignore[arg-type]
        scope=result.scope or UNSET,
    )
