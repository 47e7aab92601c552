"""Multi-factor authentication: TOTP codes, secrets sealed at rest, enrolments and challenges."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class OneTimeCodes(Protocol):
    """RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps."""

    def new_secret(self) -> str:
        """A fresh random secret (160 bits) in unpadded base32."""
        ...

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        """The `otpauth://totp/…` URI an authenticator app reads (from a QR code or by hand)."""
        ...

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        """The time step (Unix time // 30) among the previous, current and next one whose code
        is `code`, compared in constant time; None when none matches or `code` is no code."""
        ...


class SecretBox(Protocol):
    """Secrets at rest, under the data key (`GATEHOUSE_DATA_KEY`), never the signing secret."""

    def seal(self, plaintext: str, *, context: str) -> bytes:
        """Encrypt and authenticate; `context` (e.g. the owner's id) must be given again to open
        it, so a sealed value copied to another row does not open there."""
        ...

    def open(self, sealed: bytes, *, context: str) -> str:
        """The plaintext; `SecretUnreadableError` when it was sealed under another key or
        context, or was altered."""
        ...

    def digest(self, text: str) -> str:
        """A keyed one-way digest (HMAC-SHA-256 under a key derived from the data key), for codes
        that are looked up but never read back (recovery codes)."""
        ...


@dataclass(frozen=True, slots=True)
class MfaEnrolment:
    """An account's TOTP secret, sealed; pending until a code confirmed it."""

    user_id: int
    sealed_secret: bytes = field(repr=False)
    created_at: datetime
    confirmed_at: datetime | None
    last_step: int | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """The second step of a log-in: known only by the fingerprint of its `mfa_token`."""

    id: int
    user_id: int
    throttle_key: str = field(repr=False)
    expires_at: datetime
    used_at: datetime | None
    failures: int

    def is_usable(self, now: datetime, max_failures: int) -> bool:
        return self.used_at is None and now < self.expires_at and self.failures < max_failures


class MfaRepository(Protocol):
    """Enrolments, recovery codes and log-in challenges, inside a unit of work."""

    async def get(self, user_id: int) -> MfaEnrolment | None: ...

    async def start(self, user_id: int, sealed_secret: bytes, now: datetime) -> None:
        """Store a pending enrolment, replacing any earlier pending one (never a confirmed one)."""
        ...

    async def confirm(self, user_id: int, step: int, now: datetime) -> bool:
        """Confirm the pending enrolment with the code of `step`; False when there is none."""
        ...

    async def claim_step(self, user_id: int, step: int) -> bool:
        """Accept `step` for a confirmed enrolment only if no step at or after it was accepted
        before, atomically: of two requests with one code, one gets True."""
        ...

    async def remove(self, user_id: int) -> bool:
        """MFA off: the enrolment and every recovery code go; False when there was none."""
        ...

    async def replace_recovery_codes(self, user_id: int, digests: Sequence[str], now: datetime) -> None:
        """The account's recovery codes are now exactly these (their digests); the old ones die."""
        ...

    async def spend_recovery_code(self, user_id: int, digest: str, now: datetime) -> bool:
        """Mark an unused code spent; False when it is unknown or spent (one use, even in a race)."""
        ...

    async def unused_recovery_codes(self, user_id: int) -> int: ...

    async def add_challenge(
        self, *, user_id: int, fingerprint: str, throttle_key: str, now: datetime, expires_at: datetime
    ) -> None: ...

    async def find_challenge(self, fingerprint: str) -> MfaChallenge | None: ...

    async def attempt_challenge(self, challenge_id: int, now: datetime, max_failures: int) -> int | None:
        """Count one attempt against it if it is unused, unexpired and under `max_failures`, and
        lock it until the transaction ends; its count after this one, or None (it is dead)."""
        ...

    async def spend_challenge(self, challenge_id: int, now: datetime) -> None:
        """The attempt of this transaction succeeded: the challenge is used, and the attempt is
        not counted as a failure."""
        ...

    async def end_challenges(self, user_id: int) -> None:
        """Every challenge of the account dies (its password changed, it was deactivated)."""
        ...
