"""PruneExpiredRows and RunHousekeeping over the in-memory adapters, with a clock that moves when told."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.housekeeping import InMemoryHousekeeping, InMemoryTaskLease
from gatehouse.adapters.memory.mail_outbox import InMemoryMailQueue
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.ports.api_tokens import NewApiToken
from gatehouse.application.use_cases.housekeeping import PruneExpiredRows, PruneReport, RunHousekeeping
from gatehouse.domain.scopes import Scope
from tests.housekeeping_builders import (
    NewUow,
    fingerprint,
    idempotency_stored,
    plant_account_token,
    plant_idempotency_record,
    plant_mail,
    plant_sent_mail,
    plant_session,
    plant_user,
    session_stored,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LONG_AGO = NOW - 60 * DAY


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def new_uow(database: InMemoryDatabase) -> NewUow:
    return lambda: InMemoryUnitOfWork(database)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def prune(database: InMemoryDatabase, clock: FixedClock, batch: int = 1000) -> PruneExpiredRows:
    return PruneExpiredRows(InMemoryHousekeeping(database), clock, batch=batch)


async def test_sessions_go_an_hour_after_they_ended_and_live_ones_keep_every_token(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    ada = await plant_user(new_uow, "ada", LONG_AGO)

    async def session(**kwargs: Any) -> int:
        kwargs.setdefault("expires_at", NOW + DAY)
        return (await plant_session(new_uow, ada, created_at=LONG_AGO, **kwargs)).id

    live = await session(refresh_tokens=("spent-long-ago", "current"))
    expired = await session(expires_at=NOW - HOUR - US, refresh_tokens=("expired",))
    just_expired = await session(expires_at=NOW - HOUR)
    revoked = await session(revoked_at=NOW - HOUR - US, refresh_tokens=("revoked-1", "revoked-2"))
    just_revoked = await session(revoked_at=NOW - HOUR, refresh_tokens=("just-revoked",))

    report = await prune(database, clock).execute()

    assert (report.sessions, report.refresh_tokens) == (2, 3)
    for gone in (expired, revoked):
        assert not await session_stored(new_uow, gone)
    for kept in (live, just_expired, just_revoked):
        assert await session_stored(new_uow, kept)
    assert set(database.state.refresh_tokens) == {
        fingerprint(name) for name in ("spent-long-ago", "current", "just-revoked")
    }


async def test_one_time_tokens_go_an_hour_after_they_were_spent_or_expired(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    async def token(
        name: str, *, expires_at: datetime = NOW + HOUR, spent_at: datetime | None = None
    ) -> None:
        owner = await plant_user(new_uow, name.replace("-", "_"), LONG_AGO)
        await plant_account_token(
            new_uow, name, user_id=owner.id, created_at=LONG_AGO, expires_at=expires_at, spent_at=spent_at
        )

    await token("unspent")
    await token("expired", expires_at=NOW - HOUR - US)
    await token("just-expired", expires_at=NOW - HOUR)
    await token("spent", spent_at=NOW - HOUR - US)
    await token("just-spent", spent_at=NOW - HOUR)

    report = await prune(database, clock).execute()

    assert report.account_tokens == 2
    assert set(database.state.account_tokens) == {
        fingerprint(name) for name in ("unspent", "just-expired", "just-spent")
    }


async def test_api_tokens_go_an_hour_after_revocation_or_30_days_after_expiry(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    owner = await plant_user(new_uow, "owner", LONG_AGO)
    plan = {
        "live": (NOW + DAY, None),
        "revoked": (NOW + DAY, NOW - HOUR - US),
        "just-revoked": (NOW + DAY, NOW - HOUR),
        "lapsed": (NOW - 30 * DAY - US, None),
        "just-lapsed": (NOW - 30 * DAY, None),
        "expired-last-week": (NOW - 7 * DAY, None),  # its owner still sees it listed, as expired
    }
    async with new_uow() as uow:
        for name, (expires_at, revoked_at) in plan.items():
            new = NewApiToken(
                user_id=owner.id,
                name=name,
                scopes=frozenset({Scope.PROFILE_READ}),
                digest=fingerprint(name),
                created_at=LONG_AGO,
                expires_at=expires_at,
            )
            token = await uow.api_tokens.add(new)
            if revoked_at is not None:
                await uow.api_tokens.revoke(token.id, revoked_at)
        await uow.commit()

    report = await prune(database, clock).execute()

    assert report.api_tokens == 2
    left = {stored.token.name for stored in database.state.api_tokens.values()}
    assert left == {"live", "just-revoked", "just-lapsed", "expired-last-week"}


async def test_idempotency_records_go_25_hours_after_their_request_began(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    await plant_idempotency_record(new_uow, "old", NOW - 25 * HOUR - US, answered=True)
    await plant_idempotency_record(new_uow, "just-old", NOW - 25 * HOUR, answered=True)
    # Past its 24 hours (a retry now proceeds afresh) but within the hour of grace.
    await plant_idempotency_record(new_uow, "expired", NOW - 24 * HOUR - US, answered=True)
    await plant_idempotency_record(new_uow, "fresh", NOW - HOUR, answered=True)

    report = await prune(database, clock).execute()

    assert report.idempotency_records == 1
    for key, kept in (("old", False), ("just-old", True), ("expired", True), ("fresh", True)):
        assert await idempotency_stored(new_uow, key) is kept, key


async def test_mail_goes_an_hour_after_it_was_sent_dropped_or_suppressed_a_pending_one_never(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    queue = InMemoryMailQueue(database)
    await plant_sent_mail(new_uow, queue, "sent", NOW - HOUR - US)
    await plant_sent_mail(new_uow, queue, "just-sent", NOW - HOUR)
    await plant_mail(new_uow, "suppressed", NOW - HOUR - US, deliver=False)
    await plant_mail(new_uow, "dead", NOW - 2 * DAY)
    assert await queue.give_up(created_before=NOW - DAY, now=NOW) == 1
    await plant_mail(new_uow, "pending-for-weeks", LONG_AGO)  # never dropped (the relay is off)

    report = await prune(database, clock).execute()

    assert report.mails == 3
    left = {m.subject: m.status for m in database.state.mails.values()}
    assert left == {"just-sent": "sent", "pending-for-weeks": "pending"}


class CountingHousekeeping(InMemoryHousekeeping):
    """Records what each call was allowed to delete and what it did."""

    calls: list[tuple[str, int, int]]

    def __init__(self, database: InMemoryDatabase) -> None:
        super().__init__(database)
        self.calls = []

    def __getattribute__(self, name: str) -> Any:
        method = super().__getattribute__(name)
        if not name.startswith("delete_"):
            return method

        async def counted(**kwargs: Any) -> int:
            deleted: int = await method(**kwargs)
            self.calls.append((name, kwargs["limit"], deleted))
            return deleted

        return counted


@pytest.mark.parametrize(("rows", "batches"), [(5, [2, 2, 1]), (4, [2, 2, 0]), (0, [0])])
async def test_a_run_deletes_in_batches_until_one_deletes_fewer_than_the_batch(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock, rows: int, batches: list[int]
) -> None:
    for n in range(rows):
        await plant_idempotency_record(new_uow, f"k{n}", LONG_AGO, answered=True)
        await plant_mail(new_uow, f"m{n}", LONG_AGO, deliver=False)
    rows_port = CountingHousekeeping(database)

    report = await PruneExpiredRows(rows_port, clock, batch=2).execute()

    assert (report.idempotency_records, report.mails) == (rows, rows)
    assert all(limit == 2 for _, limit, _ in rows_port.calls)
    for kind in ("delete_idempotency_records", "delete_finished_mail"):
        assert [deleted for name, _, deleted in rows_port.calls if name == kind] == batches
    assert [deleted for name, _, deleted in rows_port.calls if name == "delete_ended_sessions"] == [0]


async def test_a_second_run_finds_nothing_left(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    ada = await plant_user(new_uow, "ada", LONG_AGO)
    await plant_session(new_uow, ada, created_at=LONG_AGO, expires_at=LONG_AGO, refresh_tokens=("t",))
    await plant_idempotency_record(new_uow, "old", LONG_AGO, answered=False)

    first = await prune(database, clock).execute()
    second = await prune(database, clock).execute()

    assert first == PruneReport(sessions=1, refresh_tokens=1, idempotency_records=1)
    assert first.total == 3
    assert second == PruneReport()


# --- RunHousekeeping: one worker of many prunes, about once per interval ---------------------------


def worker(database: InMemoryDatabase, clock: FixedClock, holder: str) -> RunHousekeeping:
    lease = InMemoryTaskLease(database)
    return RunHousekeeping(lease, prune(database, clock), clock, holder, interval_s=3600)


async def test_only_the_worker_holding_the_lease_prunes_until_the_interval_has_passed(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    first, second = worker(database, clock, "a:1"), worker(database, clock, "b:2")
    await plant_idempotency_record(new_uow, "old", LONG_AGO, answered=True)

    assert await first.execute() == PruneReport(idempotency_records=1)
    await plant_idempotency_record(new_uow, "old-too", LONG_AGO, answered=True)
    clock.advance(3600 - 1)
    assert await second.execute() is None
    assert await first.execute() is None  # the holder too waits for its interval
    assert await idempotency_stored(new_uow, "old-too")

    clock.advance(1)
    assert await second.execute() == PruneReport(idempotency_records=1)
    assert database.state.leases["housekeeping"] == ("b:2", NOW + 2 * HOUR)


async def test_of_two_workers_starting_a_pass_at_once_one_prunes(
    database: InMemoryDatabase, new_uow: NewUow, clock: FixedClock
) -> None:
    await plant_idempotency_record(new_uow, "old", LONG_AGO, answered=True)

    reports = await asyncio.gather(*(worker(database, clock, f"w:{n}").execute() for n in range(4)))

    assert sorted(reports, key=lambda r: r is None) == [PruneReport(idempotency_records=1), None, None, None]
