"""Delete the rows that have served their purpose: now (`gatehouse db prune`) or on a schedule."""

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.housekeeping import Housekeeping, TaskLease
from gatehouse.application.use_cases.idempotency import KEY_LIFETIME

# Rows stay this long after they stopped mattering: a request in flight that read one just before
# (a refresh racing a log-out, a reset confirmed at its last second) finds it still there, and
# clocks of other hosts a little ahead or behind change nothing.
GRACE = timedelta(hours=1)
# An expired API token stays listed (to its owner, as expired) this long before it goes.
EXPIRED_TOKENS_LISTED = timedelta(days=30)
BATCH = 1000
LEASE_NAME = "housekeeping"


@dataclass(frozen=True, slots=True)
class PruneReport:
    """How many rows of each kind one run deleted."""

    sessions: int = 0
    refresh_tokens: int = 0
    account_tokens: int = 0
    mfa_challenges: int = 0
    api_tokens: int = 0
    idempotency_records: int = 0
    mails: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.counts().values())


class PruneExpiredRows:
    """Delete every row that has served its purpose; report how many of each kind.

    - A session goes an hour after it ended: revoked, or past its refresh expiry. An ended
      session never lives again (a refresh needs a live one), and ids are never reused, so an
      access token naming a deleted session is refused as it was before.
    - Refresh tokens go with their session, and only with it: a spent token of a live session,
      however old, is what tells a replayed stolen token (§5), so it stays while the session lives.
    - A one-time token (verification, reset) goes an hour after it was spent, killed by a newer
      one, or expired; "unknown" is answered as "spent" was. An unspent, unexpired one stays.
    - A second-step log-in challenge (`mfa_token`) goes an hour after it was spent or expired.
    - An API token goes an hour after it was revoked, or 30 days after it expired (until then its
      owner sees it listed, expired).
    - An idempotency record goes 25 hours after its first request began (a retry replays within
      24 hours only).
    - A mail goes an hour after it was sent; a dropped or suppressed mail once it was queued over
      an hour ago. A pending mail (due, leased to a sender or waiting to retry) is never deleted.
    - Each statement deletes at most `batch` rows in a short transaction of its own, repeated
      until one deletes fewer: a run never holds SQLite's writer or PostgreSQL's row locks long.
    """

    def __init__(self, housekeeping: Housekeeping, clock: Clock, batch: int = BATCH) -> None:
        self._rows = housekeeping
        self._clock = clock
        self._batch = batch

    async def execute(self) -> PruneReport:
        now = self._clock.now()
        ended = now - GRACE
        rows = self._rows
        # Tokens before their sessions, so each is counted (the cascade would delete them unseen).
        refresh_tokens = await self._drain(rows.delete_refresh_tokens_of_ended_sessions, ended_before=ended)
        return PruneReport(
            refresh_tokens=refresh_tokens,
            sessions=await self._drain(rows.delete_ended_sessions, ended_before=ended),
            account_tokens=await self._drain(rows.delete_spent_account_tokens, ended_before=ended),
            mfa_challenges=await self._drain(rows.delete_ended_mfa_challenges, ended_before=ended),
            api_tokens=await self._drain(
                rows.delete_ended_api_tokens, revoked_before=ended, expired_before=now - EXPIRED_TOKENS_LISTED
            ),
            idempotency_records=await self._drain(
                rows.delete_idempotency_records, started_before=now - KEY_LIFETIME - GRACE
            ),
            mails=await self._drain(rows.delete_finished_mail, finished_before=ended),
        )

    async def _drain(self, delete: Callable[..., Awaitable[int]], **cutoff: datetime) -> int:
        total = 0
        while True:
            deleted = await delete(**cutoff, limit=self._batch)
            total += deleted
            if deleted < self._batch:
                return total


class RunHousekeeping:
    """One scheduled pass of housekeeping, in one of any number of workers.

    - It prunes only if it takes the `housekeeping` lease, which it holds for one interval from
      now and never hands back: however many workers try, the rows are pruned about once per
      interval, and never by two workers at once unless a pass outlasts the interval.
    - A worker that finds the lease held does nothing and tries again at its next pass.
    """

    def __init__(
        self, lease: TaskLease, prune: PruneExpiredRows, clock: Clock, holder: str, interval_s: float
    ) -> None:
        self._lease = lease
        self._prune = prune
        self._clock = clock
        self._holder = holder
        self._interval = timedelta(seconds=interval_s)

    async def execute(self) -> PruneReport | None:
        """The report of this worker's prune, or None when another worker holds the lease."""
        now = self._clock.now()
        until = now + self._interval
        if not await self._lease.acquire(LEASE_NAME, holder=self._holder, now=now, until=until):
            return None
        return await self._prune.execute()
