"""In-memory twin of the MFA repository: enrolments, recovery codes and log-in challenges."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from gatehouse.adapters.memory.state import OverState
from gatehouse.application.ports.mfa import MfaChallenge, MfaEnrolment, MfaRepository


class InMemoryMfaRepository(OverState, MfaRepository):
    """Rows of an account that is gone are gone with it (the tables' ON DELETE CASCADE)."""

    def _live(self, user_id: int) -> bool:
        return user_id in self._s.users

    async def get(self, user_id: int) -> MfaEnrolment | None:
        return self._s.mfa_enrolments.get(user_id) if self._live(user_id) else None

    async def start(self, user_id: int, sealed_secret: bytes, now: datetime) -> None:
        current = self._s.mfa_enrolments.get(user_id)
        if current is not None and current.confirmed:
            raise RuntimeError("a confirmed enrolment is never replaced")  # the caller checked
        self._s.mfa_enrolments[user_id] = MfaEnrolment(
            user_id=user_id, sealed_secret=sealed_secret, created_at=now, confirmed_at=None, last_step=None
        )

    async def confirm(self, user_id: int, step: int, now: datetime) -> bool:
        current = await self.get(user_id)
        if current is None or current.confirmed:
            return False
        self._s.mfa_enrolments[user_id] = replace(current, confirmed_at=now, last_step=step)
        return True

    async def claim_step(self, user_id: int, step: int) -> bool:
        current = await self.get(user_id)
        if current is None or not current.confirmed:
            return False
        if current.last_step is not None and current.last_step >= step:
            return False
        self._s.mfa_enrolments[user_id] = replace(current, last_step=step)
        return True

    async def remove(self, user_id: int) -> bool:
        self._s.recovery_codes.pop(user_id, None)
        return self._s.mfa_enrolments.pop(user_id, None) is not None

    async def replace_recovery_codes(self, user_id: int, digests: Sequence[str], now: datetime) -> None:
        self._s.recovery_codes[user_id] = dict.fromkeys(digests)

    async def spend_recovery_code(self, user_id: int, digest: str, now: datetime) -> bool:
        codes = self._s.recovery_codes.get(user_id, {}) if self._live(user_id) else {}
        if digest not in codes or codes[digest] is not None:
            return False
        codes[digest] = now
        return True

    async def unused_recovery_codes(self, user_id: int) -> int:
        return sum(1 for used in self._s.recovery_codes.get(user_id, {}).values() if used is None)

    async def add_challenge(
        self, *, user_id: int, fingerprint: str, throttle_key: str, now: datetime, expires_at: datetime
    ) -> None:
        self._s.mfa_challenges[fingerprint] = MfaChallenge(
            id=self._s.new_id("mfa_challenges"),
            user_id=user_id,
            throttle_key=throttle_key,
            expires_at=expires_at,
            used_at=None,
            failures=0,
        )

    async def find_challenge(self, fingerprint: str) -> MfaChallenge | None:
        challenge = self._s.mfa_challenges.get(fingerprint)
        return challenge if challenge is not None and self._live(challenge.user_id) else None

    async def attempt_challenge(self, challenge_id: int, now: datetime, max_failures: int) -> int | None:
        for fingerprint, challenge in self._s.mfa_challenges.items():
            if challenge.id == challenge_id and challenge.is_usable(now, max_failures):
                counted = replace(challenge, failures=challenge.failures + 1)
                self._s.mfa_challenges[fingerprint] = counted
                return counted.failures
        return None

    async def spend_challenge(self, challenge_id: int, now: datetime) -> None:
        for fingerprint, challenge in self._s.mfa_challenges.items():
            if challenge.id == challenge_id:
                self._s.mfa_challenges[fingerprint] = replace(
                    challenge, used_at=now, failures=challenge.failures - 1
                )

    async def end_challenges(self, user_id: int) -> None:
        for fingerprint, challenge in list(self._s.mfa_challenges.items()):
            if challenge.user_id == user_id:
                del self._s.mfa_challenges[fingerprint]
