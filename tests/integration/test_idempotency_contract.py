"""The IdempotencyRepository contract on memory, SQLite and PostgreSQL, and claims that race."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
from sqlalchemy import text

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.idempotency import IdempotencyRecord, IdempotencyRepository, StoredResponse
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.idempotency import Claim, ClaimIdempotencyKey, ClaimOutcome
from tests.databases import ENGINES
from tests.integration.builders import T0, assert_utc
from tests.integration.conftest import Backend, open_database

LATER = T0 + timedelta(hours=2, microseconds=7)
SCOPE, KEY = "user:1", "key-1"
BODY = b'{"id": 1, "name": "\xc3\xa9"}\x00\xff\r\n'
Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Store:
    """One backend, and its `Database` when it has one (to watch PostgreSQL's lock queue)."""

    backend: Backend
    database: Database | None


@pytest.fixture(params=["memory", *ENGINES])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = InMemoryDatabase()
        yield Store(Backend("memory", lambda: InMemoryUnitOfWork(memory), InMemoryUserQueries(memory)), None)
        return
    async with open_database(request.param, tmp_path, migrated=True) as db:
        yield Store(Backend(request.param, lambda: SqlAlchemyUnitOfWork(db), SqlAlchemyUserQueries(db)), db)


async def _nothing() -> None:
    return None


async def until_read_or_waiting_for_a_lock(database: Database, read: asyncio.Event) -> None:
    """Poll until `read` is set or a statement of this database waits for a lock (fail after 5 s)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with database.read_engine.connect() as conn, asyncio.timeout(5):
        while not read.is_set() and not (await conn.execute(waiting)).scalar_one():
            await conn.rollback()  # pg_stat_activity is a snapshot per transaction


class _PausingRepository(IdempotencyRepository):
    """Runs `before_read` and `after_read` around `get`; every other call goes straight through."""

    def __init__(self, inner: IdempotencyRepository, before_read: Hook, after_read: Hook) -> None:
        self._inner, self._before, self._after = inner, before_read, after_read

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        await self._before()
        record = await self._inner.get(scope, key)
        await self._after()
        return record

    async def start(
        self, scope: str, key: str, fingerprint: str, now: datetime, replacing: IdempotencyRecord | None
    ) -> None:
        await self._inner.start(scope, key, fingerprint, now, replacing)

    async def finish(self, scope: str, key: str, response: StoredResponse) -> None:
        await self._inner.finish(scope, key, response)

    async def release(self, scope: str, key: str) -> None:
        await self._inner.release(scope, key)


class _ChoreographedUnitOfWork(UnitOfWork):
    """A unit of work whose idempotency reads pause where a test says; `after_exit` runs on leaving."""

    def __init__(self, inner: UnitOfWork, before_read: Hook, after_read: Hook, after_exit: Hook) -> None:
        self._inner = inner
        self._hooks = (before_read, after_read)
        self._after_exit = after_exit

    async def __aenter__(self) -> Self:
        inner = await self._inner.__aenter__()
        self.users, self.sessions, self.orders = inner.users, inner.sessions, inner.orders
        self.audit, self.outbox, self.account_tokens = inner.audit, inner.outbox, inner.account_tokens
        self.mfa = inner.mfa
        self.api_tokens = inner.api_tokens
        self.idempotency = _PausingRepository(inner.idempotency, *self._hooks)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._inner.__aexit__(exc_type, exc, tb)
        finally:
            await self._after_exit()

    async def commit(self) -> None:
        await self._inner.commit()


def racing_units_of_work(store: Store) -> tuple[UnitOfWork, UnitOfWork]:
    """Two units of work for two claims of one key.

    On PostgreSQL the second reads only after the first has; the first goes on after its read
    only once the second's read has finished or waits for a lock the first holds; the second goes
    on after its read only once the first has finished. SQLite and memory run one writer at a
    time, so there the two race.
    """
    backend, db = store.backend, store.database
    if db is None or db.is_sqlite:
        return backend.new_uow(), backend.new_uow()
    first_read, second_reading = asyncio.Event(), asyncio.Event()
    second_read, first_done = asyncio.Event(), asyncio.Event()

    async def first_after_read() -> None:
        first_read.set()
        await second_reading.wait()
        await until_read_or_waiting_for_a_lock(db, second_read)

    async def first_after_exit() -> None:
        first_done.set()

    async def second_before_read() -> None:
        # The second reads only after the first has: were it to read (and lock) first, the first
        # would wait on its lock while it waits for the first to finish, until a statement timeout.
        await first_read.wait()
        second_reading.set()

    async def second_after_read() -> None:
        second_read.set()
        await first_done.wait()

    first = _ChoreographedUnitOfWork(backend.new_uow(), _nothing, first_after_read, first_after_exit)
    second = _ChoreographedUnitOfWork(backend.new_uow(), second_before_read, second_after_read, _nothing)
    return first, second


async def test_an_idempotency_record_runs_from_start_until_finished(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        assert await uow.idempotency.get(SCOPE, KEY) is None
        await uow.idempotency.start(SCOPE, KEY, "f" * 64, T0, None)
        await uow.commit()
    async with backend.new_uow() as uow:
        running = await uow.idempotency.get(SCOPE, KEY)
        await uow.idempotency.finish(SCOPE, KEY, StoredResponse(201, BODY, "/api/v1/users/1/orders/9"))
        await uow.commit()
    async with backend.new_uow() as uow:
        finished = await uow.idempotency.get(SCOPE, KEY)
        assert await uow.idempotency.get("user:2", KEY) is None

    assert running is not None
    assert (running.fingerprint, running.started_at, running.response) == ("f" * 64, T0, None)
    assert_utc(running.started_at)
    assert finished is not None
    assert finished.response is not None
    assert (finished.response.status, finished.response.body, finished.response.location) == (
        201,
        BODY,
        "/api/v1/users/1/orders/9",
    )


async def test_a_finished_response_without_location_or_body_round_trips(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        await uow.idempotency.start(SCOPE, KEY, "f", T0, None)
        await uow.idempotency.finish(SCOPE, KEY, StoredResponse(200, b"", None))
        await uow.commit()
    async with backend.new_uow() as uow:
        record = await uow.idempotency.get(SCOPE, KEY)

    assert record is not None
    assert record.response == StoredResponse(200, b"", None)


async def test_start_replaces_an_older_record_of_the_key(backend: Backend) -> None:
    for fingerprint, moment in (("first", T0), ("second", LATER)):
        async with backend.new_uow() as uow:
            previous = await uow.idempotency.get(SCOPE, KEY)
            await uow.idempotency.start(SCOPE, KEY, fingerprint, moment, previous)
            await uow.idempotency.finish(SCOPE, KEY, StoredResponse(201, fingerprint.encode(), None))
            await uow.commit()
    async with backend.new_uow() as uow:
        previous = await uow.idempotency.get(SCOPE, KEY)
        await uow.idempotency.start(SCOPE, KEY, "third", LATER, previous)
        record = await uow.idempotency.get(SCOPE, KEY)

    assert record is not None
    assert (record.fingerprint, record.started_at, record.response) == ("third", LATER, None)


async def test_release_removes_a_running_record_but_never_a_finished_one(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        await uow.idempotency.start(SCOPE, "running", "f", T0, None)
        await uow.idempotency.start(SCOPE, "finished", "f", T0, None)
        await uow.idempotency.finish(SCOPE, "finished", StoredResponse(201, b"{}", None))
        await uow.commit()
    async with backend.new_uow() as uow:
        for key in ("running", "finished", "unknown"):
            await uow.idempotency.release(SCOPE, key)
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.idempotency.get(SCOPE, "running") is None
        finished = await uow.idempotency.get(SCOPE, "finished")
    assert finished is not None
    assert finished.response == StoredResponse(201, b"{}", None)


@pytest.mark.parametrize("earlier", [None, "abandoned", "expired"])
async def test_of_two_concurrent_claims_of_one_key_exactly_one_proceeds(
    store: Store, earlier: str | None
) -> None:
    backend = store.backend
    clock = FixedClock(LATER)
    if earlier is not None:
        async with backend.new_uow() as uow:
            age = timedelta(minutes=2) if earlier == "abandoned" else timedelta(days=2)
            await uow.idempotency.start(SCOPE, KEY, "f", LATER - age, None)
            if earlier == "expired":
                await uow.idempotency.finish(SCOPE, KEY, StoredResponse(201, b"{}", None))
            await uow.commit()

    racing = racing_units_of_work(store)
    claims = [ClaimIdempotencyKey(uow, clock) for uow in racing]
    outcomes = await asyncio.gather(
        *(c.execute(ClaimIdempotencyKey.Command(scope=SCOPE, key=KEY, fingerprint="f")) for c in claims),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["Claim", "ConflictError"], outcomes
    assert [o for o in outcomes if isinstance(o, Claim)] == [Claim(ClaimOutcome.PROCEED)]
    assert next(o for o in outcomes if isinstance(o, ConflictError)).message
