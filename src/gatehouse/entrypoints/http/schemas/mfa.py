"""The shapes of multi-factor authentication: enrolment, codes, the second log-in step."""

from typing import Annotated

import msgspec
from msgspec import Meta

from gatehouse.entrypoints.http.schemas.fields import PasswordText, Strict

# A code is six ASCII digits (the app's) or a recovery code (ten base32 letters, a dash or space
# between the halves, any case). Anything else is malformed: 422 before it is counted as a guess.
CODE_PATTERN = r"^([0-9]{6}|[A-Za-z2-7]{5}[- ]?[A-Za-z2-7]{5})$"
CodeText = Annotated[
    str,
    Meta(
        pattern=CODE_PATTERN,
        description="A 6-digit code from the authenticator app, or (where allowed) a recovery code",
        examples=["123456"],
    ),
]
MfaTokenText = Annotated[str, Meta(min_length=1, max_length=512, description="From the 403 of /auth/token")]


class PasswordIn(Strict):
    password: PasswordText


class CodeIn(Strict):
    code: CodeText


class DisableMfaIn(Strict):
    password: PasswordText
    code: CodeText


class MfaLoginIn(Strict):
    mfa_token: MfaTokenText
    code: CodeText


class TotpEnrolmentOut(msgspec.Struct):
    """Shown once: put it in the app by hand (`secret`) or from a QR code of `otpauth_uri`."""

    secret: Annotated[str, Meta(description="Unpadded base32 (RFC 6238: SHA-1, 6 digits, 30 s)")]
    otpauth_uri: str


class RecoveryCodesOut(msgspec.Struct):
    """Shown once: each code logs in once in place of a TOTP code."""

    recovery_codes: list[str]
