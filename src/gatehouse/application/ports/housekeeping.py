"""Housekeeping: deleting rows that have served their purpose, and a lease on the chore."""

from datetime import datetime
from typing import Protocol


class Housekeeping(Protocol):
    """Batched deletes of spent rows.

    Each call is one short transaction of its own (never inside a unit of work) that deletes at most
    `limit` rows and returns how many it deleted; the caller repeats it until it deletes fewer.
    """

    async def delete_refresh_tokens_of_ended_sessions(self, *, ended_before: datetime, limit: int) -> int:
        """Refresh tokens of sessions revoked or expired before `ended_before`; never a token of a
        session that still lives (or ended later), however old or spent the token is."""
        ...

    async def delete_ended_sessions(self, *, ended_before: datetime, limit: int) -> int:
        """Sessions revoked or expired before `ended_before` (any refresh token still left goes
        with its session, as the foreign key's cascade does)."""
        ...

    async def delete_spent_account_tokens(self, *, ended_before: datetime, limit: int) -> int:
        """One-time tokens spent (or killed by a newer one) or expired before `ended_before`."""
        ...

    async def delete_ended_mfa_challenges(self, *, ended_before: datetime, limit: int) -> int:
        """Second-step log-in challenges (`mfa_token`s) spent or expired before `ended_before`."""
        ...

    async def delete_ended_api_tokens(
        self, *, revoked_before: datetime, expired_before: datetime, limit: int
    ) -> int:
        """API tokens revoked before `revoked_before` or expired before `expired_before`."""
        ...

    async def delete_idempotency_records(self, *, started_before: datetime, limit: int) -> int:
        """Idempotency records whose first request began before `started_before`."""
        ...

    async def delete_finished_mail(self, *, finished_before: datetime, limit: int) -> int:
        """Mails sent before `finished_before`, and mails dropped or suppressed that were queued
        before it; never a mail still pending (due, leased or waiting for a retry)."""
        ...


class TaskLease(Protocol):
    """A named lease in the shared database, so one worker of many does a periodic chore."""

    async def acquire(self, name: str, *, holder: str, now: datetime, until: datetime) -> bool:
        """Take the lease `name` for `holder` until `until` when no one holds it at `now` (a lease
        ends at its `until`). Of callers racing for a free lease, exactly one gets True."""
        ...
