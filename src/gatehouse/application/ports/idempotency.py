"""Idempotency keys: the first answer to a request, stored with the change it made."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer to an idempotent request, replayed byte for byte."""

    status: int
    body: bytes = field(repr=False)
    location: str | None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    started_at: datetime
    response: StoredResponse | None


class IdempotencyRepository(Protocol):
    """Keys per caller scope; a record is running until its response is stored."""

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The record, locked against a concurrent claim where the engine can."""
        ...

    async def start(
        self, scope: str, key: str, fingerprint: str, now: datetime, replacing: IdempotencyRecord | None
    ) -> None:
        """Record a running claim, replacing exactly the stale record that was read (if any).

        `ConflictError` when another claim won the race: the key was inserted meanwhile, or the
        record that was read has already been replaced.
        """
        ...

    async def finish(self, scope: str, key: str, response: StoredResponse) -> None: ...

    async def release(self, scope: str, key: str) -> None: ...
