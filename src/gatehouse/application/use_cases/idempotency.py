"""Claim and release idempotency keys (the whole creation: application/idempotency.py)."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases import OverUnitOfWork
from gatehouse.domain.errors import InvalidValueError

KEY_LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(seconds=60)


class ClaimOutcome(StrEnum):
    PROCEED = "proceed"
    REPLAY = "replay"


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    response: StoredResponse | None = None


class ClaimIdempotencyKey(OverUnitOfWork):
    """Decide what a request carrying an `Idempotency-Key` does.

    - First use (or the key expired after 24 h, or its first request was abandoned for 60 s): proceed.
    - Same key and same request fingerprint, answered: replay the stored answer.
    - Same key, first request still running: 409.
    - Same key, different request: 422.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        scope: str  # whose key: `user:<id>`, or `ip:<address>` for an anonymous caller
        key: str
        fingerprint: str  # of the request (method, path, body): the same key with another is 422

    async def execute(self, command: Command) -> Claim:
        now = self.clock.now()
        scope, key = command.scope, command.key
        async with self.uow as uow:
            record = await uow.idempotency.get(scope, key)
            fresh = record is not None and record.started_at > now - KEY_LIFETIME
            if record is not None and fresh:
                if record.fingerprint != command.fingerprint:
                    raise InvalidValueError("Idempotency-Key", "This key was used with a different request")
                if record.response is not None:
                    return Claim(ClaimOutcome.REPLAY, record.response)
                if record.started_at > now - ABANDONED_AFTER:
                    raise ConflictError("A request with this Idempotency-Key is still running")
            await uow.idempotency.start(scope, key, command.fingerprint, now, replacing=record)
            await uow.commit()
        return Claim(ClaimOutcome.PROCEED)


@dataclass(frozen=True, slots=True)
class ReleaseIdempotencyKey:
    """Free a key whose request failed without an answer worth replaying (a 5xx)."""

    @dataclass(frozen=True, kw_only=True)
    class Command:
        scope: str
        key: str

    uow: UnitOfWork

    async def execute(self, command: Command) -> None:
        async with self.uow as uow:
            await uow.idempotency.release(command.scope, command.key)
            await uow.commit()
