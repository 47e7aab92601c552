"""Sending the hostile-input suite's cases and judging the answers (CONTRACT §2, "Hostile input").

`Prober` sends each case (straight to the ASGI app when the URL is too long for httpx), checks the
answer (below 500, the expected status, the envelope on a 4xx) and, after an answer that refuses
the input, that the database is as it was. `captured_logs` collects the `gatehouse` log records
of a test: no `api_error`, no argon2 hash, no password or token. Every problem is collected, with
the case that caused it, so one run lists them all.
"""

import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import text

from gatehouse.entrypoints.logs import JsonLinesFormatter
from tests.e2e.conftest import Account, Api
from tests.e2e.hostile_support import ERROR_NAMES, INPUT_REFUSALS, NEW_PASSWORD, WRONG_PASSWORD, Case

# --- sending and judging --------------------------------------------------------------------------


async def chunks(content: bytes) -> AsyncIterator[bytes]:
    """The body in 64 KiB chunks with no Content-Length (chunked transfer)."""
    for start in range(0, len(content), 64 * 1024):
        yield content[start : start + 64 * 1024]


def envelope_problems(response: httpx.Response) -> list[str]:
    """What is wrong with a 4xx answer's envelope (empty when it is the contract's)."""
    try:
        body = response.json()
    except ValueError:
        return [f"not JSON: {response.text[:120]!r}"]
    if not isinstance(body, dict):
        return [f"not an object: {response.text[:120]!r}"]
    problems = []
    names = ERROR_NAMES.get(response.status_code, set())
    if body.get("error") not in names:
        problems.append(f"error {body.get('error')!r} is not one of {sorted(names)}")
    if not isinstance(body.get("message"), str) or not body["message"]:
        problems.append("no message")
    if not isinstance(body.get("path"), str) or not body["path"].startswith("/"):
        problems.append(f"path {body.get('path')!r}")
    if body.get("request_id") != response.headers.get("x-request-id"):
        problems.append(f"request_id {body.get('request_id')!r} != X-Request-ID")
    return problems


# Rows and versions of every table a request could change (SQL both engines speak).
STATE_SQL = text(
    """
    SELECT (SELECT count(*) FROM users), (SELECT coalesce(sum(version), 0) FROM users),
           (SELECT count(*) FROM orders), (SELECT coalesce(sum(version), 0) FROM orders),
           (SELECT count(*) FROM audit_events), (SELECT count(*) FROM mail_outbox),
           (SELECT count(*) FROM sessions), (SELECT count(revoked_at) FROM sessions),
           (SELECT count(*) FROM refresh_tokens), (SELECT count(spent_at) FROM refresh_tokens),
           (SELECT count(*) FROM account_tokens), (SELECT count(used_at) FROM account_tokens),
           (SELECT count(*) FROM idempotency_keys)
    """
)
LONGEST_HTTPX_URL = 60_000  # httpx refuses URLs over 64 KiB; longer ones go straight to the app


async def raw_request(
    client: httpx.AsyncClient, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes | None
) -> httpx.Response:
    """One request straight to the client's ASGI app, for a URL too long for httpx."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    path, _, query = url.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "headers": [(b"host", b"testserver"), *((name.lower(), value) for name, value in headers)],
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "server": ("testserver", 80),
        "client": transport.client,
        "root_path": "",
    }
    messages = [{"type": "http.request", "body": body or b"", "more_body": False}]
    started: dict[str, Any] = {}
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await transport.app(scope, receive, send)
    request = httpx.Request(method, "http://testserver" + path)
    content = b"".join(parts)
    return httpx.Response(
        started["status"], headers=started.get("headers", []), content=content, request=request
    )


@dataclass
class Caller:
    label: str  # admin, anonymous, fresh-account
    headers: dict[str, str]


class Prober:
    """Sends cases, judges the answers and collects every problem with the case that caused it."""

    def __init__(self, api: Api, engine: str) -> None:
        self.api = api
        self.engine = engine
        self.problems: list[str] = []
        self.sent = 0
        self.labels: dict[str, str] = {}  # request id -> the case, for api_error lines
        self._state: tuple[Any, ...] | None = None

    async def state(self) -> tuple[Any, ...]:
        """What a hostile request that is refused must leave unchanged, read in one statement."""
        async with self.api.container.database().read_engine.connect() as conn:
            row = (await conn.execute(STATE_SQL)).one()
        return tuple(row)

    async def resync(self) -> None:
        """Take the state as it is now (after a change the test made on purpose)."""
        self._state = await self.state()

    async def send(self, case: Case, caller: Caller) -> httpx.Response:
        if self._state is None:
            self._state = await self.state()
        content: bytes | AsyncIterator[bytes] | None = case.content
        if case.chunked and case.content is not None:
            content = chunks(case.content)
        headers = [
            (name.encode(), value if isinstance(value, bytes) else value.encode())
            for name, value in {**caller.headers, **case.headers}.items()
        ]
        where = f"{case.method} {case.url[:90]} {case.place}={case.value}"
        description = f"[{self.engine}] {caller.label} {where}"
        self.sent += 1
        try:
            if len(case.url) > LONGEST_HTTPX_URL:
                response = await raw_request(self.api.client, case.method, case.url, headers, case.content)
            else:
                response = await self.api.client.request(
                    case.method, case.url, content=content, headers=headers
                )
        except Exception as exc:  # the app raised through the transport: as bad as a 500
            self.problems.append(f"{description}: the app raised {type(exc).__name__}: {exc}"[:300])
            await self.resync()
            return httpx.Response(599)
        self.labels[response.headers.get("x-request-id", "")] = description
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{description}: {status} {response.text[:150]}")
        elif case.expect and status not in case.expect:
            expected = sorted(case.expect)
            self.problems.append(f"{description}: {status}, expected {expected} {response.text[:150]}")
        if 400 <= status < 500:
            wrong = envelope_problems(response)
            if wrong:
                self.problems.append(f"{description}: {status} outside the envelope: {'; '.join(wrong)}")
        after = await self.state()
        if status in INPUT_REFUSALS and after != self._state:
            self.problems.append(f"{description}: answered {status}, but the state changed")
        self._state = after
        return response


# --- logs -----------------------------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Every record of the `gatehouse` loggers, formatted as the production JSON lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonLinesFormatter())
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def problems(self, secrets: list[str], labels: dict[str, str]) -> list[str]:
        """api_error lines and lines holding a hash or a secret, each with the case that caused it."""
        found = []
        for record, line in zip(self.records, self.lines, strict=True):
            request_id = str(getattr(record, "request_id", ""))
            case = labels.get(request_id, f"request {request_id or '?'} ({record.getMessage()})")
            if record.getMessage() == "api_error" or getattr(record, "event", None) == "api_error":
                exc = record.exc_info[1] if record.exc_info else None
                found.append(f"api_error logged for {case}: {type(exc).__name__}: {one_line(str(exc))}")
            if "$argon2" in line:
                found.append(f"a log line holds an argon2 hash, for {case}")
            leaked = [secret[:12] + "…" for secret in secrets if secret and secret in line]
            if leaked:
                found.append(f"a log line holds secrets {leaked}, for {case}")
        return found


def one_line(text: str, limit: int = 150) -> str:
    return " ".join(text.split())[:limit]


@contextmanager
def captured_logs() -> Iterator[LogCapture]:
    logger = logging.getLogger("gatehouse")
    capture = LogCapture()
    saved = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(saved)


def engine_of(request: pytest.FixtureRequest) -> str:
    """The engine of the `api` fixture this test runs on."""
    return str(request.node.callspec.params["api"])


def assert_no_problems(prober: Prober, logs: LogCapture, secrets: list[str]) -> None:
    problems = prober.problems + logs.problems(secrets, prober.labels)
    assert prober.sent > 0
    assert problems == [], f"{len(problems)} problems in {prober.sent} requests:\n" + "\n".join(problems)


def account_secrets(*accounts: Account) -> list[str]:
    """Passwords and tokens that must never reach a log line (and a JWT's signature alone)."""
    found = [NEW_PASSWORD, WRONG_PASSWORD]
    for account in accounts:
        found += [account.password, account.token, account.refresh_token, account.token.split(".")[-1]]
    return found
