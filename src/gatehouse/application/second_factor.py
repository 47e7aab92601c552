"""Checking a second factor: a TOTP code (each step once per account) or a recovery code (once)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gatehouse.application.ports.mfa import MfaEnrolment, OneTimeCodes, SecretBox
from gatehouse.application.ports.unit_of_work import UnitOfWork

RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10  # 50 random bits, shown as xxxxx-xxxxx


class Factor(StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


def secret_context(user_id: int) -> str:
    """What a TOTP secret is sealed to: its account (a sealed secret moved to another row fails)."""
    return f"totp:user:{user_id}"


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalized_recovery_code(raw: str) -> str | None:
    """The code as stored (lower case, no dash or spaces), or None when it can't be one."""
    code = raw.strip().lower().replace("-", "").replace(" ", "")
    if len(code) != RECOVERY_CODE_LENGTH or any(c not in RECOVERY_ALPHABET for c in code):
        return None
    return code


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """Checks codes against an account's confirmed enrolment, inside the caller's unit of work
    (so a code is only spent when the change it allows commits)."""

    codes: OneTimeCodes
    box: SecretBox

    def step_of(self, enrolment: MfaEnrolment, code: str, now: datetime) -> int | None:
        secret = self.box.open(enrolment.sealed_secret, context=secret_context(enrolment.user_id))
        return self.codes.matching_step(secret, code.strip(), now)

    async def accept(
        self, uow: UnitOfWork, enrolment: MfaEnrolment, code: str, now: datetime, *, recovery: bool
    ) -> Factor | None:
        """The factor `code` proved, spending it; None when it is wrong or already used."""
        step = self.step_of(enrolment, code, now)
        if step is not None:
            return Factor.TOTP if await uow.mfa.claim_step(enrolment.user_id, step) else None
        normalized = normalized_recovery_code(code) if recovery else None
        if normalized is not None and await uow.mfa.spend_recovery_code(
            enrolment.user_id, self.box.digest(normalized), now
        ):
            return Factor.RECOVERY_CODE
        return None

    async def renew_recovery_codes(self, uow: UnitOfWork, user_id: int, now: datetime) -> Sequence[str]:
        codes = new_recovery_codes()
        digests = [self.box.digest(normalized_recovery_code(c) or "") for c in codes]
        await uow.mfa.replace_recovery_codes(user_id, digests, now)
        return codes
