"""The bare ASGI baseline of `make bench`: the list page with nothing but the work it needs.

`GET /api/v1/users?page=N&page_size=M` answers what Gatehouse answers (the same JSON, byte for
byte but for header order), doing the same work with the same drivers and no framework: verify
the HS256 access token (PyJWT), check its session and account in one statement, read the page
with its total in one statement, encode with msgspec. No middleware, no validation of anything
else, no metrics, no logs: the ceiling a Python service on this stack could reach, against which
`make bench` prints Gatehouse's list page as a ratio. Not part of Gatehouse; run by bench.py:

    python scripts/bench_baseline.py PORT [WORKERS]   (GATEHOUSE_DATABASE_URL, GATEHOUSE_JWT_SECRET set)
"""

import asyncio
import os
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import jwt
import msgspec
import uvicorn

COLUMNS = "u.id, u.email, u.username, u.full_name, u.role, u.is_active, u.email_verified, u.mfa_enabled, u.created_at, u.updated_at"


class UserOut(msgspec.Struct):
    id: int
    email: str
    username: str
    full_name: str | None
    role: str
    is_active: bool
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime
    updated_at: datetime


class PageOut(msgspec.Struct):
    items: list[UserOut]
    total: int
    page: int
    page_size: int
    total_pages: int


ENCODER = msgspec.json.Encoder()
SECRET = os.environ["GATEHOUSE_JWT_SECRET"]
URL = os.environ["GATEHOUSE_DATABASE_URL"]
POSTGRES = URL.startswith("postgresql")


def sql(text: str) -> str:
    """`?` placeholders for sqlite3, `$n` for asyncpg."""
    if not POSTGRES:
        return text
    parts = text.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


PRINCIPAL = sql(
    "SELECT u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.user_id = ?"
    " AND s.revoked_at IS NULL AND s.expires_at > ? AND u.is_active"
)
PAGE = sql(f"SELECT {COLUMNS}, (SELECT count(*) FROM users) AS total FROM users u ORDER BY u.id LIMIT ? OFFSET ?")


class Store:
    async def principal_role(self, session_id: int, user_id: int) -> str | None:
        raise NotImplementedError

    async def page(self, limit: int, offset: int) -> list[Any]:
        raise NotImplementedError


class PostgresStore(Store):
    def __init__(self) -> None:
        import asyncpg

        self._asyncpg = asyncpg
        self._idle: asyncio.Queue[Any] = asyncio.Queue()
        self._opened = 0

    async def _fetch(self, query: str, *args: Any) -> list[Any]:
        if self._idle.empty() and self._opened < 10:
            self._opened += 1
            conn = await self._asyncpg.connect(URL.replace("postgresql+asyncpg", "postgresql"))
        else:
            conn = await self._idle.get()
        try:
            return list(await conn.fetch(query, *args))
        finally:
            self._idle.put_nowait(conn)

    async def principal_role(self, session_id: int, user_id: int) -> str | None:
        rows = await self._fetch(PRINCIPAL, session_id, user_id, datetime.now(UTC))
        return rows[0][0] if rows else None

    async def page(self, limit: int, offset: int) -> list[Any]:
        return await self._fetch(PAGE, limit, offset)


class SqliteStore(Store):
    """The look-up inline on the loop, the page on an aiosqlite thread: as Gatehouse does."""

    def __init__(self) -> None:
        import aiosqlite

        path = URL.split("///", 1)[1]
        self._aiosqlite, self._path = aiosqlite, path
        self._inline = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._idle: asyncio.Queue[Any] = asyncio.Queue()
        self._opened = 0

    async def principal_role(self, session_id: int, user_id: int) -> str | None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = self._inline.execute(PRINCIPAL, (session_id, user_id, now)).fetchall()
        return rows[0][0] if rows else None

    async def page(self, limit: int, offset: int) -> list[Any]:
        if self._idle.empty() and self._opened < 10:
            self._opened += 1
            conn = await self._aiosqlite.connect(self._path, isolation_level=None)
        else:
            conn = await self._idle.get()
        try:
            rows = await conn.execute_fetchall(PAGE, (limit, offset))
        finally:
            self._idle.put_nowait(conn)
        return [(*r[:5], bool(r[5]), bool(r[6]), bool(r[7]), stored(r[8]), stored(r[9]), r[10]) for r in rows]


def stored(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


STORE: Store | None = None


async def respond(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global STORE
    if scope["type"] == "lifespan":
        await receive()  # startup
        STORE = PostgresStore() if POSTGRES else SqliteStore()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # shutdown
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/health/live":
        await respond(send, 200, b"{}")
        return
    assert STORE is not None
    auth = dict(scope["headers"]).get(b"authorization", b"")
    try:
        claims = jwt.decode(auth[7:], SECRET, algorithms=["HS256"], audience="gatehouse-api", issuer="gatehouse")
        role = await STORE.principal_role(int(claims["sid"]), int(claims["sub"]))
    except (jwt.InvalidTokenError, KeyError, ValueError):
        role = None
    if role is None:
        await respond(send, 401, b'{"error":"unauthorized"}')
        return
    if role not in ("admin", "moderator"):
        await respond(send, 403, b'{"error":"forbidden"}')
        return
    query = dict(parse_qsl(scope["query_string"].decode()))
    page, size = int(query.get("page", 1)), int(query.get("page_size", 50))
    rows = await STORE.page(size, (page - 1) * size)
    total = rows[0][10] if rows else 0
    items = [UserOut(*r[:10]) for r in rows]
    body = ENCODER.encode(PageOut(items, total, page, size, -(-total // size)))
    await respond(send, 200, body)


if __name__ == "__main__":
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    uvicorn.run(
        "bench_baseline:app" if workers > 1 else app,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
