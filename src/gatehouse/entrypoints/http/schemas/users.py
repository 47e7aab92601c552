"""The shapes of `/users`: sign-up, replace, patch, password change, the account and its pages."""

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from gatehouse.domain.user import User
from gatehouse.entrypoints.http.schemas.fields import (
    EmailText,
    FullNameText,
    NewPasswordText,
    PasswordText,
    RoleName,
    Strict,
    UsernameText,
)


class SignUpIn(Strict):
    email: EmailText
    username: UsernameText
    password: NewPasswordText
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
    new_password: NewPasswordText


class UserCursorPageOut(msgspec.Struct):
    items: list["UserOut"]
    next_cursor: str | None


class UserOut(msgspec.Struct):
    id: int
    email: str
    username: str
    full_name: str | None
    role: RoleName
    is_active: bool
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime
    updated_at: datetime


class UserPageOut(msgspec.Struct):
    items: list[UserOut]
    total: int
    page: int
    page_size: int
    total_pages: int


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email.value,
        username=user.username.value,
        full_name=user.full_name.value if user.full_name else None,
        role=user.role.value,
        is_active=user.is_active,
        email_verified=user.email_verified,
        mfa_enabled=user.mfa_enabled,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
