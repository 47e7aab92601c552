"""The shapes at the HTTP edge: request and response Structs (msgspec)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gatehouse.domain.order import Order
from gatehouse.domain.user import User
from gatehouse.entrypoints.http.openapi_document import PASSWORD_MARK

EMAIL_FORMAT = r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$"  # checked by the domain (422)
EmailText = Annotated[
    str,
    Meta(
        max_length=254,
        description="Lower-cased on storage",
        examples=["ada@example.com"],
        extra_json_schema={"pattern": EMAIL_FORMAT},
    ),
]
UsernameText = Annotated[
    str, Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_]+$", examples=["ada_l"])
]
FullNameText = Annotated[str, Meta(max_length=200, examples=["Ada Lovelace"])]
PasswordText = Annotated[str, Meta(max_length=1024, description="The account's password, as it was set")]
NewPasswordText = Annotated[
    str,
    Meta(
        max_length=128,
        examples=["Analytical1-Engine"],
        # The policy in force checks the rest (422); the document states its rules (openapi_document.py).
        extra_json_schema={PASSWORD_MARK: True},
    ),
]
RoleName = Literal["admin", "moderator", "user"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: unknown fields are a 422."""


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


class LoginIn(Strict):
    email: Annotated[str, Meta(max_length=254, description="Email, or username")]
    password: PasswordText


class LoginForm(msgspec.Struct, forbid_unknown_fields=False):
    """The OAuth2 password form: `username` is an email or a username (bounded as the JSON log-in)."""

    username: Annotated[str, Meta(max_length=254, description="Email, or username")]
    password: PasswordText
    grant_type: Annotated[str, Meta(max_length=64)] | None = None
    scope: Annotated[str, Meta(max_length=1024)] | None = None
    client_id: Annotated[str, Meta(max_length=255)] | None = None
    client_secret: Annotated[str, Meta(max_length=255)] | None = None


class RefreshIn(Strict):
    refresh_token: Annotated[str, Meta(max_length=512)]


class LogoutIn(Strict):
    refresh_token: Annotated[str, Meta(max_length=512)] | None = None


SkuText = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", examples=["BOOK-1"])]
StatusName = Literal["pending", "paid", "shipped", "delivered", "cancelled"]


class ItemIn(Strict):
    sku: SkuText
    quantity: Annotated[int, Meta(ge=1, le=1000)]
    unit_price_cents: Annotated[int, Meta(ge=0, le=1_000_000_000)]


class OrderIn(Strict):
    """The total is computed by Gatehouse; sending one is an unknown field (422)."""

    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
    items: Annotated[list[ItemIn], Meta(min_length=1, max_length=100)]


class OrderStatusIn(Strict):
    status: StatusName


class ItemOut(msgspec.Struct):
    sku: str
    quantity: int
    unit_price_cents: int


class OrderOut(msgspec.Struct):
    id: int
    user_id: int
    status: StatusName
    currency: str
    items: list[ItemOut]
    total_cents: int
    created_at: datetime
    updated_at: datetime


class OrderPageOut(msgspec.Struct):
    items: list[OrderOut]
    total: int
    page: int
    page_size: int
    total_pages: int


class OrderCursorPageOut(msgspec.Struct):
    items: list[OrderOut]
    next_cursor: str | None


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
        email_verified=user.email_verified,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def order_out(order: Order) -> OrderOut:
    return OrderOut(
        id=order.id,
        user_id=order.user_id,
        status=order.status.value,
        currency=order.currency.code,
        items=[ItemOut(i.sku, i.quantity, i.unit_price_cents) for i in order.items],
        total_cents=order.total_cents,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
