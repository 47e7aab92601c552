"""The database unreachable (§11), against a PostgreSQL of the test's own that it stops under
traffic and starts again on the same port: 503 with Retry-After (never a 500, never a hang past
10 s), /health/ready 503 and /health/live 200, one `dependency_down` line, and service resumes
with no restart of Gatehouse.

One outage is staged once per module; each test asserts one behaviour of what was observed.
"""

import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gatehouse_server import GatehouseServer, bearer, log_in, migrated_server, sign_up, wait_for
from tests.servers import ThrowawayPostgres

HANG_LIMIT_S = 10.0
CLIENT_TIMEOUT_S = 12.0
RESUME_DEADLINE_S = 30.0


@dataclass
class Answer:
    what: str
    seconds: float
    response: httpx.Response | None = None
    error: str | None = None


@dataclass
class Outage:
    during: list[Answer] = field(default_factory=list)  # explicit calls while PostgreSQL is down
    traffic: list[Answer] = field(default_factory=list)  # a steady reader across stop and restart
    ready: httpx.Response | None = None
    live: httpx.Response | None = None
    down_lines_during: list[dict[str, Any]] = field(default_factory=list)
    down_lines_after: list[dict[str, Any]] = field(default_factory=list)
    resumed_me: httpx.Response | None = None
    resumed_sign_up: httpx.Response | None = None
    ready_after: httpx.Response | None = None


def timed(client: httpx.Client, what: str, method: str, path: str, **kwargs: Any) -> Answer:
    started = time.monotonic()
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        return Answer(what, time.monotonic() - started, error=repr(exc))
    return Answer(what, time.monotonic() - started, response)


class SteadyReader:
    """GET /users/me in a loop on its own connection until stopped."""

    def __init__(self, server: GatehouseServer, token: str, answers: list[Answer]) -> None:
        self.stopping = threading.Event()
        self.answers = answers
        self.thread = threading.Thread(target=self._run, args=(server.url, token))

    def _run(self, url: str, token: str) -> None:
        with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_S) as client:
            while not self.stopping.is_set():
                self.answers.append(timed(client, "me", "GET", "/api/v1/users/me", headers=bearer(token)))
                self.stopping.wait(0.02)

    def __enter__(self) -> "SteadyReader":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=CLIENT_TIMEOUT_S * 2)


def database_lines(server: GatehouseServer) -> list[dict[str, Any]]:
    return [e for e in server.events("dependency_down") if e.get("dependency") == "database"]


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    seen = Outage()
    with ThrowawayPostgres() as postgres:
        server = migrated_server(tmp_path_factory.mktemp("db-outage"), GATEHOUSE_DATABASE_URL=postgres.url)
        with server, httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as client:
            server.start()
            sign_up(client, "before_outage")
            token = log_in(client, "before_outage")["access_token"]
            assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
            with SteadyReader(server, token, seen.traffic):
                wait_for(lambda: len(seen.traffic) >= 5, 10, "traffic before the outage")
                postgres.stop()
                for n in range(3):
                    seen.during.append(timed(client, "me", "GET", "/api/v1/users/me", headers=bearer(token)))
                    body = {
                        "email": f"during{n}@example.com",
                        "username": f"during_{n}",
                        "password": "Secret1x",
                    }
                    seen.during.append(timed(client, "sign-up", "POST", "/api/v1/users", json=body))
                seen.ready = client.get("/health/ready")
                seen.live = client.get("/health/live")
                seen.down_lines_during = database_lines(server)
                postgres.start()

                def me_is_back() -> bool:
                    seen.resumed_me = client.get("/api/v1/users/me", headers=bearer(token))
                    return seen.resumed_me.status_code == 200

                wait_for(me_is_back, RESUME_DEADLINE_S, "GET /users/me back to 200", poll_s=0.2)
                body = {"email": "after@example.com", "username": "after_outage", "password": "Secret1x"}
                seen.resumed_sign_up = client.post("/api/v1/users", json=body)
                seen.ready_after = client.get("/health/ready")
                mark = len(seen.traffic)
                wait_for(lambda: len(seen.traffic) >= mark + 5, 10, "traffic after the outage")
            seen.down_lines_after = database_lines(server)
            assert server.running(), server.output()[-2000:]
            yield seen


def test_requests_needing_the_database_get_503_service_unavailable_with_retry_after(outage: Outage) -> None:
    assert {a.what for a in outage.during} == {"me", "sign-up"}
    for answer in outage.during:
        assert answer.response is not None, f"{answer.what}: {answer.error}"
        assert answer.response.status_code == 503, answer.response.text
        assert answer.response.json()["error"] == "ServiceUnavailableError"
        assert int(answer.response.headers["Retry-After"]) > 0


def test_no_request_hangs_past_10_seconds_while_the_database_is_down(outage: Outage) -> None:
    slow = [(a.what, round(a.seconds, 2), a.error) for a in outage.during if a.seconds > HANG_LIMIT_S]
    assert slow == []


def test_traffic_across_the_stop_and_restart_never_gets_a_500_nor_hangs(outage: Outage) -> None:
    broken = [
        (round(a.seconds, 2), a.error, a.response.status_code if a.response else None)
        for a in outage.traffic
        if a.response is None or a.seconds > HANG_LIMIT_S or a.response.status_code not in (200, 503)
    ]
    assert broken == []
    statuses = {a.response.status_code for a in outage.traffic if a.response}
    assert statuses == {200, 503}, "the reader should have met the outage and its end"


def test_ready_is_503_down_and_live_stays_200_while_the_database_is_down(outage: Outage) -> None:
    assert outage.ready is not None
    assert outage.live is not None
    assert outage.ready.status_code == 503
    body = outage.ready.json()
    assert body["status"] == "down"
    assert body["checks"] == {"database": "down", "redis": "disabled"}
    assert outage.live.status_code == 200
    assert outage.live.json() == {"status": "ok"}


def test_one_dependency_down_line_names_the_database_for_the_whole_outage(outage: Outage) -> None:
    assert len(outage.down_lines_during) == 1
    assert outage.down_lines_after == outage.down_lines_during


def test_service_resumes_without_a_restart_when_postgres_returns(outage: Outage) -> None:
    assert outage.resumed_me is not None
    assert outage.resumed_me.status_code == 200
    assert outage.resumed_me.json()["username"] == "before_outage"
    assert outage.resumed_sign_up is not None
    assert outage.resumed_sign_up.status_code == 201, outage.resumed_sign_up.text
    assert outage.ready_after is not None
    assert outage.ready_after.status_code == 200
    assert outage.ready_after.json() == {"status": "ok", "checks": {"database": "ok", "redis": "disabled"}}


def test_a_frozen_database_that_accepts_but_never_answers_still_gets_503_within_10_seconds(
    tmp_path: Path,
) -> None:
    """Unreachable also means silent (a partition, a frozen host): SIGSTOP every PostgreSQL
    process, so connections are accepted by the kernel and nothing ever answers."""
    with ThrowawayPostgres() as postgres:
        server = migrated_server(tmp_path, GATEHOUSE_DATABASE_URL=postgres.url)
        with server, httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as client:
            server.start()
            sign_up(client, "frozen")
            token = log_in(client, "frozen")["access_token"]
            body = {"email": "late@example.com", "username": "late_one", "password": "Secret1x"}
            calls = [
                ("me", "GET", "/api/v1/users/me", {"headers": bearer(token)}),
                ("sign-up", "POST", "/api/v1/users", {"json": body}),
            ]

            def call(what: str, method: str, path: str, kwargs: dict[str, Any]) -> Answer:
                with httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as own:
                    return timed(own, what, method, path, **kwargs)

            postgres.freeze()
            try:
                with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                    answers = list(pool.map(lambda c: call(*c), calls))
            finally:
                postgres.thaw()

            def back() -> bool:
                return client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200

            wait_for(back, RESUME_DEADLINE_S, "GET /users/me back to 200 after the thaw", poll_s=0.2)

    outcomes = {
        a.what: (a.response.status_code if a.response else a.error, round(a.seconds, 1)) for a in answers
    }
    assert all(a.response is not None and a.response.status_code == 503 for a in answers), outcomes
    assert all(a.seconds <= HANG_LIMIT_S for a in answers), outcomes


def start_session(port: int) -> tuple[socket.socket, bytes]:
    """A PostgreSQL session over a raw socket (trust auth): the socket and the server's first answer
    (ending in ReadyForQuery when the session is open, an ErrorResponse when refused)."""
    session = socket.create_connection(("127.0.0.1", port), timeout=10)
    params = b"user\0postgres\0database\0postgres\0\0"
    session.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
    received = b""
    while not received.endswith(b"Z\x00\x00\x00\x05I"):  # ReadyForQuery, idle
        chunk = session.recv(4096)
        if not chunk:
            break
        received += chunk
    return session, received


def open_session(port: int) -> socket.socket:
    session, received = start_session(port)
    assert received.endswith(b"Z\x00\x00\x00\x05I"), f"PostgreSQL refused the session: {received!r}"
    return session


def refuses_new_sessions_for_now(port: int) -> bool:
    """True once a new session is refused with SQLSTATE 57P03 (cannot connect now)."""
    session, received = start_session(port)
    session.close()
    return received.startswith(b"E") and b"C57P03\0" in received


def test_a_database_that_is_shutting_down_and_refuses_new_connections_gets_503_not_500(
    tmp_path: Path,
) -> None:
    """A smart shutdown held open by one session: PostgreSQL refuses every new connection with
    "the database system is shutting down" (SQLSTATE 57P03), as it does while starting up.
    The server has opened no connection yet, so each request below must open one."""
    with ThrowawayPostgres() as postgres:
        # No mail relay: its polling would open pooled connections before the shutdown begins.
        server = migrated_server(
            tmp_path, GATEHOUSE_DATABASE_URL=postgres.url, GATEHOUSE_MAIL_POLL_SECONDS="0"
        )
        with server, httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as client:
            server.start()
            with closing(open_session(postgres.port)):
                postgres.signal(signal.SIGTERM)  # smart shutdown: waits for our session to end
                wait_for(lambda: refuses_new_sessions_for_now(postgres.port), 10, "57P03 for new sessions")
                login = client.post(
                    "/api/v1/auth/token", json={"email": "a@example.com", "password": "Secret1x"}
                )
                body = {"email": "b@example.com", "username": "b_user", "password": "Secret1x"}
                signup = client.post("/api/v1/users", json=body)
            postgres.restart()
            again = {"email": "c@example.com", "username": "c_user", "password": "Secret1x"}

            def back() -> bool:
                return client.post("/api/v1/users", json=again).status_code == 201

            wait_for(back, RESUME_DEADLINE_S, "a sign-up after the restart", poll_s=0.2)

    outcomes = {
        "login": (login.status_code, login.text[:200]),
        "sign-up": (signup.status_code, signup.text[:200]),
    }
    assert (login.status_code, signup.status_code) == (503, 503), outcomes
    assert login.headers.get("Retry-After") is not None
    assert signup.headers.get("Retry-After") is not None
