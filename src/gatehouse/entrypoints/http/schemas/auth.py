"""The shapes of `/auth`: log-in, refresh, log-out and their tokens; verification and password reset."""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from gatehouse.entrypoints.http.schemas.fields import EmailText, NewPasswordText, PasswordText, Strict

TokenText = Annotated[str, Meta(min_length=1, max_length=512, description="The token from the mail's link")]


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


class TokenOut(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str


class VerifyEmailIn(Strict):
    token: TokenText


class EmailIn(Strict):
    email: EmailText


class PasswordResetConfirmIn(Strict):
    token: TokenText
    new_password: NewPasswordText


class AcceptedOut(msgspec.Struct):
    """The same body whatever the outcome, so it reveals nothing about the account."""

    status: str
    message: str
