"""§7 logs: JSON lines, one `api_request` per request, `api_error`, `slow_query`, and no secrets."""

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.logs import JsonLinesFormatter, configure_logging
from tests.e2e.conftest import assert_envelope, start
from tests.e2e.conftest import test_settings as settings_for

EMAIL = "quillon.logwatcher@example.com"
USERNAME = "log_watcher"
FIRST_PASSWORD = "Lantern-Quill-481"
SECOND_PASSWORD = "Harbour-Moth-927"
WRONG_PASSWORD = "Wrong-Sparrow-306"
API_REQUEST_FIELDS = {"timestamp", "method", "path", "status", "duration_ms", "user_id", "ip", "request_id"}


class Captured:
    """Everything the JSON handler wrote."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    @property
    def text(self) -> str:
        return self._buffer.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every non-empty line, parsed (a line that is not a JSON object fails the test)."""
        parsed = []
        for line in self.text.splitlines():
            if line.strip():
                entry = json.loads(line)
                assert isinstance(entry, dict), line
                parsed.append(entry)
        return parsed

    def events(self, name: str) -> list[dict[str, Any]]:
        return [entry for entry in self.lines() if entry.get("event") == name]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """The production configuration (`configure_logging`) writing to a buffer; undone after the test."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    saved_disabled = logging.getLogger("uvicorn.access").disabled
    configure_logging("INFO")
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    assert isinstance(handler.formatter, JsonLinesFormatter)
    buffer = io.StringIO()
    handler.setStream(buffer)
    yield Captured(buffer)
    root.handlers[:], level = saved_root
    root.setLevel(level)
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    logging.getLogger("uvicorn.access").disabled = saved_disabled


@dataclass
class Flow:
    """What a signed-in life produced: the responses in order and every secret that went by."""

    user_id: int = 0
    responses: list[httpx.Response] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    passwords: tuple[str, ...] = (FIRST_PASSWORD, SECOND_PASSWORD, WRONG_PASSWORD)

    def keep(self, response: httpx.Response, status: int) -> httpx.Response:
        assert response.status_code == status, response.text
        self.responses.append(response)
        if response.status_code == 200 and "access_token" in response.text:
            body = response.json()
            self.tokens += [body["access_token"], body["refresh_token"]]
        return response


async def password_hash(container: Container) -> str:
    async with container.database().read_engine.connect() as conn:
        stored = (await conn.execute(text("SELECT password_hash FROM users"))).scalar_one()
    assert isinstance(stored, str)
    return stored


async def signed_in_life(client: AsyncTestClient[Any], container: Container) -> Flow:
    """Sign up, log in (JSON and form), refresh, read me, change password, fail once, log out."""
    flow = Flow()
    signup = flow.keep(
        await client.post(
            "/api/v1/users", json={"email": EMAIL, "username": USERNAME, "password": FIRST_PASSWORD}
        ),
        201,
    )
    flow.user_id = signup.json()["id"]
    flow.hashes.append(await password_hash(container))
    token = "/api/v1/auth/token"
    flow.keep(await client.post(token, json={"email": EMAIL, "password": FIRST_PASSWORD}), 200)
    flow.keep(await client.post(token, data={"username": USERNAME, "password": FIRST_PASSWORD}), 200)
    refreshed = flow.keep(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": flow.tokens[1]}), 200
    )
    auth = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    flow.keep(await client.get("/api/v1/users/me?query_marker=zq81", headers=auth), 200)
    change = {"current_password": FIRST_PASSWORD, "new_password": SECOND_PASSWORD}
    flow.keep(await client.post("/api/v1/users/me/password", json=change, headers=auth), 204)
    flow.hashes.append(await password_hash(container))
    flow.keep(await client.post(token, json={"email": EMAIL, "password": WRONG_PASSWORD}), 401)
    last = flow.keep(await client.post(token, json={"email": EMAIL, "password": SECOND_PASSWORD}), 200)
    auth = {"Authorization": f"Bearer {last.json()['access_token']}"}
    logout = {"refresh_token": last.json()["refresh_token"]}
    flow.keep(await client.post("/api/v1/auth/logout", json=logout, headers=auth), 204)
    return flow


async def run_life(tmp_path: Path, **settings: Any) -> Flow:
    container, app = await start(settings_for(tmp_path, **settings))
    async with AsyncTestClient(app) as client:
        return await signed_in_life(client, container)


async def test_every_line_is_json_and_each_request_logs_one_api_request(
    tmp_path: Path, logs: Captured
) -> None:
    flow = await run_life(tmp_path)

    entries = logs.events("api_request")
    assert [e["request_id"] for e in entries] == [r.headers["x-request-id"] for r in flow.responses]
    for entry, response in zip(entries, flow.responses, strict=True):
        assert set(entry) >= API_REQUEST_FIELDS, entry
        assert datetime.fromisoformat(entry["timestamp"]).utcoffset() is not None
        assert entry["method"] == response.request.method
        assert entry["path"] == response.request.url.path
        assert entry["status"] == response.status_code
        assert isinstance(entry["duration_ms"], int | float)
        assert entry["duration_ms"] >= 0
        assert entry["ip"] == "testclient"
    signed_in = {"/api/v1/users/me", "/api/v1/users/me/password", "/api/v1/auth/logout"}
    assert [e["user_id"] for e in entries if e["path"] in signed_in] == [flow.user_id] * 3
    assert [e["user_id"] for e in entries if e["path"] == "/api/v1/users"] == [None]
    assert "query_marker" not in json.dumps(entries)


async def test_slow_queries_log_sql_and_duration_but_never_parameters(tmp_path: Path, logs: Captured) -> None:
    await run_life(tmp_path, slow_query_ms=0)

    slow = logs.events("slow_query")
    assert slow, "with a threshold of 0 ms every statement is slow"
    assert all(isinstance(e["sql"], str) and e["sql"] for e in slow)
    assert all(isinstance(e["duration_ms"], int | float) and e["duration_ms"] >= 0 for e in slow)
    assert any("users" in e["sql"].lower() and "insert" in e["sql"].lower() for e in slow)
    assert [e for e in slow if EMAIL in json.dumps(e) or USERNAME in json.dumps(e)] == []


async def test_no_output_holds_a_password_a_password_hash_or_a_token(tmp_path: Path, logs: Captured) -> None:
    flow = await run_life(tmp_path, slow_query_ms=0)

    output = logs.text
    assert len(flow.hashes) == 2
    assert flow.hashes[0] != flow.hashes[1]
    assert len(flow.tokens) == 8
    assert logs.events("slow_query")  # the statements that carried them were logged
    secrets = [*flow.passwords, *flow.tokens]
    for stored in flow.hashes:
        secrets += [stored, *stored.split("$")[-2:]]  # the whole hash, its salt, its digest
    for token in flow.tokens:
        secrets.append(token.split(".")[-1])  # a JWT's signature, or the whole opaque token
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == []


async def test_an_unexpected_exception_logs_one_api_error_with_stack_trace_and_request_id(
    tmp_path: Path, logs: Captured
) -> None:
    container, app = await start(settings_for(tmp_path))

    def explode() -> None:
        raise RuntimeError("kaboom-7f3e in the read side")

    async with AsyncTestClient(app) as client:
        with container.get_user.override(providers.Callable(explode)):
            response = await client.get("/api/v1/users/1", headers={"X-Request-ID": "trace-me-42"})
        healthy = await client.get("/health/live")

    body = assert_envelope(response, 500, "InternalServerError")
    assert body["request_id"] == "trace-me-42"
    assert "kaboom" not in response.text
    assert "Traceback" not in response.text
    errors = logs.events("api_error")
    assert len(errors) == 1
    assert errors[0]["request_id"] == "trace-me-42"
    assert "RuntimeError: kaboom-7f3e" in errors[0]["stack_trace"]
    assert "Traceback" in errors[0]["stack_trace"]
    requests = logs.events("api_request")
    assert [(e["request_id"], e["status"]) for e in requests] == [
        ("trace-me-42", 500),
        (healthy.headers["x-request-id"], 200),
    ]
