"""`gatehouse serve` (§1, §11): refuses to start without what it needs, serves, exits 0 on SIGTERM."""

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli_support import DATA_KEY, GATEHOUSE, STRONG_SECRET, Cli, assert_one_line_error, free_port
from tests.gatehouse_server import migrated_server, sign_up, wait_for
from tests.mail_grep import token_by_grep

START_DEADLINE_S = 30
STOP_DEADLINE_S = 30
PASSWORD = "Secret123"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def migrated(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.ok("db", "upgrade")
    return cli


def wait_until_live(server: Server) -> None:
    """Poll /health/live until it answers 200; fail if the process dies or the deadline passes."""
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        assert server.process.poll() is None, server.output()
        try:
            if httpx.get(f"{server.url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not live after {START_DEADLINE_S}s:\n{server.output()}"
        time.sleep(0.05)


@pytest.fixture
def server(migrated: Cli) -> Iterator[Server]:
    port = free_port()
    log = migrated.cwd / "serve.log"
    env = {
        **migrated.env,
        "GATEHOUSE_JWT_SECRET": STRONG_SECRET,
        "GATEHOUSE_DATA_KEY": DATA_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [GATEHOUSE, "serve", "--port", str(port)],
            cwd=migrated.cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_live(running)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_DEADLINE_S)


def test_serve_without_a_signing_secret_refuses_to_start(migrated: Cli) -> None:
    assert not (migrated.cwd / "var" / "jwt_secret").exists()

    result = migrated("serve", "--port", str(free_port()))

    assert_one_line_error(result, "GATEHOUSE_JWT_SECRET")


def test_serve_with_a_10_byte_secret_refuses_to_start(migrated: Cli) -> None:
    result = migrated("serve", "--port", str(free_port()), GATEHOUSE_JWT_SECRET="0123456789")

    assert_one_line_error(result, "32")


def test_serve_on_a_missing_database_says_to_run_db_upgrade(tmp_path: Path) -> None:
    result = Cli(tmp_path)(
        "serve", "--port", str(free_port()), GATEHOUSE_JWT_SECRET=STRONG_SECRET, GATEHOUSE_DATA_KEY=DATA_KEY
    )

    assert_one_line_error(result, "db upgrade")


def test_serve_answers_real_http_and_exits_0_on_sigterm(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        signup = client.post(
            "/api/v1/users", json={"email": "ada@example.com", "username": "ada_l", "password": PASSWORD}
        )
        assert signup.status_code == 201, signup.text
        login = client.post("/api/v1/auth/token", json={"email": "ada@example.com", "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["id"] == signup.json()["id"]

    server.process.send_signal(signal.SIGTERM)

    assert server.process.wait(timeout=STOP_DEADLINE_S) == 0
    output = server.output()
    assert PASSWORD not in output
    assert token not in output


def test_serve_logs_one_json_api_request_line_per_request(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.get("/api/v1/nowhere?secret=query", headers={"X-Request-ID": "log-check-1"})
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=STOP_DEADLINE_S)

    entries = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    [entry] = [e for e in entries if e.get("event") == "api_request" and e.get("request_id") == "log-check-1"]
    assert response.status_code == 404
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v1/nowhere"
    assert entry["status"] == 404
    assert isinstance(entry["duration_ms"], int | float)


def test_a_chunked_body_over_one_mib_is_413_over_real_http(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * 65536

    with httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.post(
            "/api/v1/users", content=chunks(), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 413, response.text
    assert response.json()["error"] == "PayloadTooLargeError"


# --- Where it listens ----------------------------------------------------------------------------


def test_serve_on_a_port_in_use_says_so_in_one_line_before_starting_anything(migrated: Cli) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        result = migrated(
            "serve", "--port", str(port), GATEHOUSE_JWT_SECRET=STRONG_SECRET, GATEHOUSE_DATA_KEY=DATA_KEY
        )

    assert_one_line_error(result, "--port", str(port), "in use")
    assert "startup complete" not in (result.stdout + result.stderr).lower()


@pytest.mark.parametrize("port", ["0", "99999"])
def test_serve_on_a_port_outside_1_to_65535_is_a_usage_error(tmp_path: Path, port: str) -> None:
    result = Cli(tmp_path)("serve", "--port", port)

    assert_one_line_error(result, "--port", port, "65535")
    assert result.returncode == 2


def test_mail_links_point_where_serve_listens_and_the_readmes_grep_finds_the_token(tmp_path: Path) -> None:
    """No GATEHOUSE_PUBLIC_URL: the links of a sign-up's mail go to the port `serve` was given,
    not to 8000; and README step 10's `grep | cut` gets a token that verifies."""
    with migrated_server(tmp_path).start() as server:
        outbox = tmp_path / "var" / "outbox"
        with httpx.Client(base_url=server.url, timeout=10) as client:
            sign_up(client, "ada_l")
            wait_for(lambda: any(outbox.glob("*.eml")), 10, "the sign-up's mail in var/outbox")
            [eml] = outbox.glob("*.eml")
            assert f"{server.url}/account/verify-email?token=" in eml.read_text()
            token = token_by_grep(outbox)
            verified = client.post("/api/v1/auth/verify-email", json={"token": token})

        assert verified.status_code == 204, verified.text
        assert server.port != 8000


def test_serve_warns_once_at_start_of_an_smtp_host_that_does_not_resolve(tmp_path: Path) -> None:
    server = migrated_server(
        tmp_path, GATEHOUSE_SMTP_URL="smtp://relay:hunter2secret@mail.gatehouse-test.invalid:2525"
    )
    with server.start():
        [warning] = server.events("smtp_host_unresolvable")

    assert warning["level"] == "WARNING"
    assert (warning["host"], warning["port"]) == ("mail.gatehouse-test.invalid", 2525)
    assert "hunter2secret" not in server.output()
