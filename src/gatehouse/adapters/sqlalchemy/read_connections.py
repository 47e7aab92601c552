"""A handful of raw asyncpg connections for the hot reads: single statements, no transaction.

asyncpg's own `Pool` suits any use of a connection, and pays for it on every checkout: a release
runs in a shielded task of its own and a session reset (`RESET ALL; UNLISTEN *; ...`) costs a
round trip. A read here is one statement on a connection nobody else holds, so it needs none of
that: a checkout is a list pop, a checkin a list append (ADR 0023). Whatever goes wrong while a
connection is in use — an error, a timeout, a cancellation — the connection is closed rather
than trusted again, and its place is free for a new one.
"""

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any

import asyncpg

# What a connection that sat idle fails with when the server restarted or dropped it (an
# InterfaceError counts only when the connection is closed: it is also a wrong argument count).
LOST = (asyncpg.ConnectionDoesNotExistError, ConnectionError)


class ReadConnections:
    """At most `size` connections to `dsn`, opened on demand and kept while they work."""

    def __init__(self, dsn: str, *, size: int, connect_timeout_s: float, command_timeout_s: float) -> None:
        self._dsn = dsn
        self._size = size
        self._connect_timeout_s = connect_timeout_s
        self._command_timeout_s = command_timeout_s
        self._idle: list[asyncpg.Connection] = []
        self._open = 0  # connections that exist or are being opened, idle or in use
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._retiring: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[Any]:
        """Run one statement and return its rows, all within `command_timeout_s` (waiting for a
        connection, opening one, the statement) or TimeoutError. A connection that sat idle and
        turns out dead (the server restarted) is replaced once, transparently: a read can be
        repeated."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._command_timeout_s
        if not self._idle:
            return await self._fetch_fresh(sql, args, deadline)
        connection = self._idle.pop()
        try:
            return await self._run(connection, sql, args, self._command_timeout_s)
        except (*LOST, asyncpg.InterfaceError) as exc:
            if not isinstance(exc, LOST) and not connection.is_closed():
                raise
            # The server dropped it while it sat idle, and the other idle ones with it (a
            # restart drops them all): close those too, and read once more on a new one.
            self._drop_idle()
            return await self._fetch_fresh(sql, args, deadline)

    async def _fetch_fresh(self, sql: str, args: Sequence[Any], deadline: float) -> list[Any]:
        connection = await self._checkout(deadline)
        return await self._run(connection, sql, args, deadline - asyncio.get_running_loop().time())

    async def _run(
        self, connection: asyncpg.Connection, sql: str, args: Sequence[Any], left: float
    ) -> list[Any]:
        """The statement on a checked-out connection, which goes back to the pool if it answered
        and is closed otherwise (at once if the server answered with an error; after the cancel
        request if the statement was cut short, `_retire`)."""
        try:
            if left <= 0:
                raise TimeoutError
            rows = await connection.fetch(sql, *args, timeout=left)
        except asyncpg.PostgresError:  # the server answered: nothing is left running on it
            self._discard(connection)
            raise
        except (*LOST, asyncpg.InterfaceError):  # a dead line: nothing to cancel on it
            self._discard(connection)
            raise
        except BaseException:
            self._retire(connection)
            raise
        self._checkin(connection)
        return list(rows)

    async def retired(self) -> None:
        """Wait until the connections being retired (see `_retire`) are closed."""
        if self._retiring:
            await asyncio.wait(set(self._retiring))

    async def close(self) -> None:
        self._closed = True
        await self.retired()
        idle, self._idle = self._idle, []
        for connection in idle:
            self._open -= 1
            try:
                await asyncio.wait_for(connection.close(), self._connect_timeout_s)
            except (Exception, asyncio.CancelledError):
                connection.terminate()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the read connections are closed"))

    async def _checkout(self, deadline: float) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the read connections are closed")
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                return await self._connect(deadline)
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[asyncpg.Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(min(deadline, loop.time() + self._connect_timeout_s)):
                    handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    given = waiter.result()  # handed over as the wait ended: pass it on
                    if given is not None:
                        self._checkin(given)
                    else:
                        self._wake_one(None)
                waiter.cancel()
                raise
            if handed is not None:
                return handed
            # None: a connection was closed, so there is room to open one; try again.

    async def _connect(self, deadline: float) -> asyncpg.Connection:
        left = min(self._connect_timeout_s, deadline - asyncio.get_running_loop().time())
        if left <= 0:
            self._wake_one(None)  # the room this caller won't use goes to the next waiter
            raise TimeoutError
        self._open += 1
        try:
            return await asyncpg.connect(self._dsn, timeout=left, command_timeout=self._command_timeout_s)
        except BaseException:
            self._open -= 1
            self._wake_one(None)
            raise

    def _checkin(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self._discard(connection)
            return
        if not self._wake_one(connection):
            self._idle.append(connection)

    def _retire(self, connection: asyncpg.Connection) -> None:
        """Close a connection whose statement failed or was cut short. On a timeout or a
        cancellation asyncpg asks the server to cancel the statement, on a connection of its own:
        closing the socket at once would drop that request, and a backend waiting on a lock
        would run on, out of our count, until the lock is released. So the connection keeps its
        place until the cancel request is through (or `connect_timeout_s` passes), then closes."""
        task = asyncio.get_running_loop().create_task(self._retire_after_cancel(connection))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _retire_after_cancel(self, connection: asyncpg.Connection) -> None:
        try:
            await asyncio.sleep(0)  # a cancellation's cancel request is scheduled by a callback
            pending = [t for t in getattr(connection, "_cancellations", ()) if not t.done()]
            if pending:
                await asyncio.wait(pending, timeout=self._connect_timeout_s)
        finally:
            self._discard(connection)

    def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection)

    def _discard(self, connection: asyncpg.Connection) -> None:
        connection.terminate()
        self._open -= 1
        self._wake_one(None)

    def _wake_one(self, connection: asyncpg.Connection | None) -> bool:
        """Hand `connection` (or, with None, room for a new one) to the longest waiter."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False
