"""The shapes at the HTTP edge: request and response Structs (msgspec)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gatehouse.domain.user import User

EmailText = Annotated[
    str, Meta(max_length=254, description="Lower-cased on storage", examples=["ada@example.com"])
]
UsernameText = Annotated[
    str, Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_]+$", examples=["ada_l"])
]
FullNameText = Annotated[str, Meta(max_length=200, examples=["Ada Lovelace"])]
PasswordText = Annotated[str, Meta(max_length=1024, description="Policy: see GATEHOUSE_PASSWORD_POLICY")]
RoleName = Literal["admin", "moderator", "user"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: unknown fields are a 422."""


class SignUpIn(Strict):
    email: EmailText
    username: UsernameText
    password: PasswordText
    full_name: FullNameText | None = None
    role: RoleName | None = None
    is_active: bool | None = None


class ReplaceUserIn(Strict):
    email: EmailText
    username: UsernameText
    full_name: FullNameText | None


class PatchUserIn(Strict):
    email: EmailText | UnsetType = UNSET
    username: UsernameText | UnsetType = UNSET
    full_name: FullNameText | None | UnsetType = UNSET
    role: RoleName | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET


class ChangePasswordIn(Strict):
    current_password: PasswordText
    new_password: PasswordText


class LoginIn(Strict):
    email: Annotated[str, Meta(max_length=254, description="Email, or username")]
    password: PasswordText


class LoginForm(msgspec.Struct):
    """The OAuth2 password form: `username` is an email or a username."""

    username: str
    password: str
    grant_type: str | None = None
    scope: str | None = None


class RefreshIn(Strict):
    refresh_token: Annotated[str, Meta(max_length=512)]


class LogoutIn(Strict):
    refresh_token: Annotated[str, Meta(max_length=512)] | None = None


class UserOut(msgspec.Struct):
    id: int
    email: str
    username: str
    full_name: str | None
    role: RoleName
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPageOut(msgspec.Struct):
    items: list[UserOut]
    total: int
    page: int
    page_size: int
    total_pages: int


class TokenOut(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str


class HealthOut(msgspec.Struct):
    status: str


class ReadinessOut(msgspec.Struct):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, str]


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email.value,
        username=user.username.value,
        full_name=user.full_name.value if user.full_name else None,
        role=user.role.value,
        is_active=user.is_active,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
