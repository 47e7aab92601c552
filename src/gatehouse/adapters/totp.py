"""RFC 6238 TOTP codes (SHA-1, 6 digits, 30 s) with pyotp."""

import hmac
from datetime import datetime

import pyotp

from gatehouse.application.ports.mfa import OneTimeCodes

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends


class PyotpCodes(OneTimeCodes):
    def new_secret(self) -> str:
        return pyotp.random_base32(length=SECRET_BYTES * 8 // 5)

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
            name=account, issuer_name=issuer
        )

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        if len(code) != DIGITS or not code.isascii() or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
        now_step = int(at.timestamp()) // STEP_SECONDS
        matched = None
        for step in (now_step - 1, now_step, now_step + 1):  # every step compared: no early exit
            expected = totp.generate_otp(step)
            if hmac.compare_digest(expected.encode(), code.encode()) and matched is None:
                matched = step
        return matched
