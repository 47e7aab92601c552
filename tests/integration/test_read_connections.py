"""ReadConnections against a real PostgreSQL: at most `size` raw asyncpg connections, each one
closed rather than trusted again once anything went wrong on it, and a dead idle one replaced once.

Every test gets a fresh database of its own (tests/databases.py), so the client backends on it are
the pool's and the side connection's alone.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.fast_reads import Statement
from gatehouse.adapters.sqlalchemy.postgres_reads import DIALECT, AsyncpgReadPool, PostgresUserQueries
from gatehouse.adapters.sqlalchemy.queries import GET_USER
from gatehouse.adapters.sqlalchemy.read_connections import ReadConnections
from gatehouse.application.errors import ServiceUnavailableError
from tests.databases import migrated_postgres_url, postgres_database_url

PID = "SELECT pg_backend_pid()"
# Nothing listens on port 1 of loopback: a connect is refused at once.
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/gatehouse"


def asyncpg_dsn(url: str) -> str:
    """The DSN AsyncpgReadPool gives ReadConnections for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database of this test's own, as an asyncpg DSN."""
    async with postgres_database_url() as url:
        yield asyncpg_dsn(url)


@pytest.fixture
async def side(dsn: str) -> AsyncIterator[Any]:
    """A connection of the test's own to the same database, outside the pool."""
    connection = await asyncpg.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


@asynccontextmanager
async def read_connections(
    dsn: str, *, size: int = 2, connect_timeout_s: float = 5.0, command_timeout_s: float = 5.0
) -> AsyncIterator[ReadConnections]:
    pool = ReadConnections(
        dsn, size=size, connect_timeout_s=connect_timeout_s, command_timeout_s=command_timeout_s
    )
    try:
        yield pool
    finally:
        await pool.close()


async def backend_pid(pool: ReadConnections) -> int:
    rows = await pool.fetch(PID, ())
    return int(rows[0][0])


async def pool_backends(side: Any, application_name: str | None = None) -> set[int]:
    """The client backends on this test's database other than the side connection (the pool's),
    or, given `application_name`, those that connected under that name."""
    rows = await side.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND application_name = coalesce($1, application_name)",
        application_name,
    )
    return {int(row["pid"]) for row in rows}


async def pool_backends_once_settled(side: Any, application_name: str | None = None) -> set[int]:
    """The pool's backends once those it closed have exited (a backend leaves pg_stat_activity a
    moment after its socket closes): empty as soon as it is, else what is left after ~5 s."""
    for _ in range(100):
        remaining = await pool_backends(side, application_name)
        if not remaining:
            return remaining
        await asyncio.sleep(0.05)
    return await pool_backends(side, application_name)


async def times_called(side: Any) -> int:
    """How often nextval('probe') ran, whatever became of the statements that called it (a
    sequence is not transactional: a cancelled or failed statement keeps its increment)."""
    row = await side.fetchrow("SELECT last_value, is_called FROM probe")
    return int(row["last_value"]) if row["is_called"] else 0


async def test_a_fetch_returns_the_rows_and_the_next_reuses_its_connection(dsn: str) -> None:
    async with read_connections(dsn) as pool:
        assert pool.open_connections == 0  # opened on demand, not up front

        one = await pool.fetch("SELECT $1::int + 1, $2::text", (41, "x"))
        many = await pool.fetch("SELECT g FROM generate_series(1, $1::int) AS g", [3])
        first_pid = await backend_pid(pool)
        second_pid = await backend_pid(pool)

        assert [tuple(row) for row in one] == [(42, "x")]
        assert [row[0] for row in many] == [1, 2, 3]
        assert isinstance(many, list)
        assert pool.open_connections == 1
        assert first_pid == second_pid


async def test_concurrent_fetches_share_at_most_size_connections(dsn: str, side: Any) -> None:
    async with read_connections(dsn, size=2) as pool:
        peak = 0
        done = False

        async def watch() -> None:
            nonlocal peak
            while not done:
                peak = max(peak, pool.open_connections)
                await asyncio.sleep(0)

        async def one(n: int) -> tuple[int, int]:
            rows = await pool.fetch("SELECT pg_sleep(0.05), pg_backend_pid(), $1::int", (n,))
            return int(rows[0][1]), int(rows[0][2])

        watcher = asyncio.create_task(watch())
        try:
            answers = await asyncio.gather(*(one(n) for n in range(10)))
        finally:
            done = True
            await watcher

        assert [n for _, n in answers] == list(range(10))  # every fetch answered, with its own rows
        pids = {pid for pid, _ in answers}
        assert len(pids) == 2  # both places were used, and no third connection was opened
        assert 1 <= peak <= 2
        assert pool.open_connections == 2
        assert await pool_backends(side) == pids  # the server agrees: two backends, both idle in the pool


async def test_a_waiter_that_gets_no_connection_in_time_times_out_and_the_pool_stays_whole(
    dsn: str,
) -> None:
    async with read_connections(dsn, size=1, connect_timeout_s=0.3) as pool:
        holder_pid = await backend_pid(pool)
        holder = asyncio.create_task(pool.fetch("SELECT pg_sleep(1.5), pg_backend_pid()", ()))
        await asyncio.sleep(0)  # the holder takes the one idle connection
        assert pool.open_connections == 1

        with pytest.raises(TimeoutError):
            await pool.fetch(PID, ())

        assert not holder.done()  # it was the wait that ran out, while the connection was still busy
        rows = await holder
        assert int(rows[0][1]) == holder_pid
        # The connection went back to the pool, not to the waiter that had given up.
        assert pool.open_connections == 1
        assert await backend_pid(pool) == holder_pid
        assert pool.open_connections == 1


async def test_a_statement_error_propagates_discards_the_connection_and_is_not_retried(
    dsn: str, side: Any
) -> None:
    await side.execute("CREATE SEQUENCE probe")
    async with read_connections(dsn, size=1) as pool:
        before = await backend_pid(pool)  # so the failing statement runs on a reused connection

        with pytest.raises(asyncpg.DivisionByZeroError):
            await pool.fetch("SELECT nextval('probe') / 0", ())

        assert pool.open_connections == 0
        assert await times_called(side) == 1
        after = await backend_pid(pool)
        assert after != before
        assert pool.open_connections == 1


async def test_a_command_over_its_timeout_raises_timeout_is_not_retried_and_the_pool_recovers(
    dsn: str, side: Any
) -> None:
    await side.execute("CREATE SEQUENCE probe")
    async with read_connections(dsn, size=1, command_timeout_s=0.5) as pool:
        before = await backend_pid(pool)  # reused below: a dead idle line would be retried

        with pytest.raises(TimeoutError):
            await pool.fetch("SELECT nextval('probe'), pg_sleep(2)", ())

        assert await times_called(side) == 1  # a slow statement is not run a second time
        await pool.retired()
        assert pool.open_connections == 0
        after = await backend_pid(pool)
        assert after != before
        assert pool.open_connections == 1


async def test_a_statement_cancelled_midway_discards_its_connection(dsn: str) -> None:
    async with read_connections(dsn, size=1) as pool:
        before = await backend_pid(pool)

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await pool.fetch("SELECT pg_sleep(2)", ())

        await pool.retired()
        assert pool.open_connections == 0
        # The line may still have a statement running on it: the next fetch gets a new one.
        after = await backend_pid(pool)
        assert after != before
        assert pool.open_connections == 1


async def test_an_idle_connection_the_server_killed_is_replaced_transparently(dsn: str, side: Any) -> None:
    async with read_connections(dsn, size=1) as pool:
        dead = await backend_pid(pool)
        assert await side.fetchval("SELECT pg_terminate_backend($1)", dead) is True
        assert await pool_backends_once_settled(side) == set()
        await asyncio.sleep(0.05)  # let the client side see the socket close

        rows = await pool.fetch("SELECT $1::int * 2, pg_backend_pid()", (21,))

        assert rows[0][0] == 42
        assert int(rows[0][1]) != dead
        assert pool.open_connections == 1
        assert await pool_backends(side) == {int(rows[0][1])}


async def test_after_the_server_dropped_every_idle_connection_the_next_fetch_still_succeeds(
    dsn: str, side: Any
) -> None:
    """A server restart kills all the idle connections at once, not one: the retry of the read
    must not be made on another of them (it would fail as the first did)."""
    async with read_connections(dsn, size=2) as pool:
        two = await asyncio.gather(*(pool.fetch("SELECT pg_sleep(0.05), pg_backend_pid()", ()) for _ in "ab"))
        dead = {int(rows[0][1]) for rows in two}
        assert len(dead) == 2  # both idle in the pool
        for pid in dead:
            assert await side.fetchval("SELECT pg_terminate_backend($1)", pid) is True
        assert await pool_backends_once_settled(side) == set()
        await asyncio.sleep(0.05)  # let the client side see the sockets close

        rows = await pool.fetch("SELECT $1::int * 2, pg_backend_pid()", (21,))

        assert rows[0][0] == 42
        assert int(rows[0][1]) not in dead
        assert await pool_backends(side) == {int(rows[0][1])}


async def test_after_close_a_fetch_is_refused_and_the_idle_connections_are_closed(
    dsn: str, side: Any
) -> None:
    pool = ReadConnections(dsn, size=2, connect_timeout_s=5, command_timeout_s=5)
    try:
        two = await asyncio.gather(*(pool.fetch("SELECT pg_sleep(0.05), pg_backend_pid()", ()) for _ in "ab"))
        pids = {int(rows[0][1]) for rows in two}
        assert len(pids) == 2
        assert await pool_backends(side) == pids  # what the server shows is what the pool holds
    finally:
        await pool.close()

    assert pool.open_connections == 0
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetch(PID, ())
    assert pool.open_connections == 0  # the refused fetch opened nothing
    assert await pool_backends_once_settled(side) == set()


async def test_close_fails_a_waiter_at_once_and_closes_the_busy_connection_when_it_is_done(
    dsn: str, side: Any
) -> None:
    pool = ReadConnections(dsn, size=1, connect_timeout_s=5, command_timeout_s=5)
    try:
        holder_pid = await backend_pid(pool)
        holder = asyncio.create_task(pool.fetch("SELECT pg_sleep(1), pg_backend_pid()", ()))
        waiter = asyncio.create_task(pool.fetch(PID, ()))
        for _ in range(5):
            await asyncio.sleep(0)  # both are in: the holder on the connection, the waiter queued
        assert not waiter.done()
    finally:
        await pool.close()

    with pytest.raises(asyncpg.InterfaceError):
        await waiter
    assert not holder.done()  # the waiter was failed by the close, not served after the holder
    rows = await holder  # a statement already running is let finish…
    assert int(rows[0][1]) == holder_pid
    assert pool.open_connections == 0  # …and its connection is then closed, not kept
    assert await pool_backends_once_settled(side) == set()


async def test_a_failed_connect_frees_its_place_for_the_next_waiter() -> None:
    """No server needed: port 1 refuses. The second fetch waits for the one place, and is told
    of it when the first connect fails, rather than waiting out connect_timeout_s."""
    async with read_connections(asyncpg_dsn(UNREACHABLE), size=1, connect_timeout_s=5) as pool:
        outcomes = await asyncio.gather(*(pool.fetch(PID, ()) for _ in range(2)), return_exceptions=True)

        for outcome in outcomes:
            assert isinstance(outcome, OSError)
            assert not isinstance(outcome, TimeoutError)
        assert pool.open_connections == 0


async def test_an_unreachable_server_makes_the_user_reads_service_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through PostgresUserQueries a refused connection is a 503 with its Retry-After, never the
    driver's OSError; the outage is logged once however many reads meet it."""
    database = Database(UNREACHABLE)
    queries = PostgresUserQueries(database)
    try:
        with pytest.raises(ServiceUnavailableError) as by_id:
            await queries.get(1)
        with pytest.raises(ServiceUnavailableError) as for_login:
            await queries.find_for_login("alice")
    finally:
        await database.dispose()

    for raised in (by_id, for_login):
        assert raised.value.retry_after == 2
        assert isinstance(raised.value.__cause__, OSError)
    down = [r for r in caplog.records if getattr(r, "event", None) == "dependency_down"]
    assert len(down) == 1


async def test_an_unreachable_server_makes_a_read_pool_fetch_service_unavailable() -> None:
    database = Database(UNREACHABLE)
    pool = AsyncpgReadPool(database)
    try:
        with pytest.raises(ServiceUnavailableError) as raised:
            await pool.fetch(Statement(GET_USER, DIALECT), {"user_id": 1})
        assert pool.connections.open_connections == 0  # the failed connect gave its place back
    finally:
        await pool.close()
        await database.dispose()

    assert isinstance(raised.value.__cause__, OSError)


async def test_the_read_connections_close_with_the_database() -> None:
    """PostgresUserQueries hands its connections' close to Database.dispose()."""
    name = f"gh_read_{uuid.uuid4().hex[:12]}"
    async with migrated_postgres_url() as url:
        side = await asyncpg.connect(asyncpg_dsn(url))
        try:
            named = make_url(url).update_query_dict({"application_name": name})
            database = Database(named.render_as_string(hide_password=False))
            try:
                queries = PostgresUserQueries(database)
                assert await queries.get(1) is None  # an empty users table; the connection stays idle
                assert len(await pool_backends(side, name)) == 1
            finally:
                await database.dispose()

            assert await pool_backends_once_settled(side, name) == set()
        finally:
            await side.close()


async def test_statements_that_time_out_on_a_lock_are_cancelled_on_the_server_and_never_outnumber_size(
    dsn: str, side: Any
) -> None:
    """A statement stuck behind a lock times out; its backend must not stay behind, waiting on the
    lock out of the pool's count, while new connections replace it (the outside attack saw 43
    such backends for a pool of 10 while a table was locked)."""
    await side.execute("CREATE TABLE locked (id int)")
    holder = await asyncpg.connect(dsn)
    try:
        lock = holder.transaction()
        await lock.start()
        await holder.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        name = f"locked_{uuid.uuid4().hex[:8]}"
        async with read_connections(f"{dsn}?application_name={name}", size=2, command_timeout_s=0.5) as pool:
            seen: set[int] = set()
            for _ in range(3):  # waves of timed-out reads, each on whatever the pool has
                outcomes = await asyncio.gather(
                    *(pool.fetch("SELECT count(*) FROM locked", ()) for _ in range(6)), return_exceptions=True
                )
                assert all(isinstance(outcome, TimeoutError) for outcome in outcomes)
                seen |= await pool_backends(side, name)
                assert pool.open_connections <= 2
            await pool.retired()
            # Still locked: every statement that timed out was cancelled, so no backend waits on it.
            waiting = await side.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                name,
            )
            assert waiting == []
            assert len(seen) <= 2 * 3  # never more than `size` at once, wave after wave
        await lock.rollback()
    finally:
        await holder.close()
