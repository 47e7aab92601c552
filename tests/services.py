"""Backing services for tests: a Redis to count in, found or started once per session.

Import the fixtures into a test module explicitly (`from tests.services import redis_url`).
The Redis is, in order: `GATEHOUSE_TEST_REDIS_URL`; a server answering on 127.0.0.1:6379;
a throwaway `redis-server` on a free loopback port, stopped at the end of the session.
Without any of them the tests that need Redis are skipped, or fail when `CI=true`.
Tests share the server, so each one counts under a random key prefix (`redis_prefix`).
"""

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
from redis import Redis
from redis.exceptions import RedisError

REDIS_ENV = "GATEHOUSE_TEST_REDIS_URL"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT_S = 10.0
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")

_found: list[str] = []  # the session's Redis URL, once known
_missing: list[str] = []  # why there is none, once known
_session_servers: list["RedisServer"] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def redis_answers(url: str, timeout_s: float = 1.0) -> bool:
    """True when a server at `url` answers PING."""
    client = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def redis_server_binary() -> str | None:
    """`redis-server` on PATH; installed with apt-get first when missing and we are root."""
    binary = shutil.which("redis-server")
    if binary is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "redis-server"],
            capture_output=True,
            timeout=300,
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        binary = shutil.which("redis-server")
    return binary


class RedisServer:
    """A throwaway `redis-server` on one loopback port, which a test may stop and start again."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait (bounded) until it answers PING."""
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {self._process.returncode}")
            if redis_answers(self.url, timeout_s=0.2):
                return
            time.sleep(0.05)  # bounded polling for the server to come up
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {START_TIMEOUT_S}s")

    def stop(self) -> None:
        """Stop the server (idempotent); the port is closed when this returns."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=START_TIMEOUT_S)


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it on CI where the service is promised."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def session_redis_url() -> str:
    """Find or start the session's Redis (remembered, so every module shares one)."""
    if _found:
        return _found[0]
    if _missing:
        unavailable(_missing[0])
    configured = os.environ.get(REDIS_ENV)
    if configured:
        if not redis_answers(configured):
            _missing.append(f"Redis not reachable at {REDIS_ENV}={configured}")
            unavailable(_missing[0])
        _found.append(configured)
    elif redis_answers(LOCAL_REDIS_URL):
        _found.append(LOCAL_REDIS_URL)
    else:
        binary = redis_server_binary()
        if binary is None:
            _missing.append("no Redis: nothing answers on 127.0.0.1:6379 and redis-server is not installed")
            unavailable(_missing[0])
        server = RedisServer(binary)
        try:
            server.start()
        except RuntimeError as exc:
            _missing.append(f"no Redis: {exc}")
            unavailable(_missing[0])
        _session_servers.append(server)
        _found.append(server.url)
    return _found[0]


def stop_session_servers() -> None:
    while _session_servers:
        _session_servers.pop().stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis URL for the whole session (see the module docstring for where it comes from)."""
    yield session_redis_url()
    stop_session_servers()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own, so runs sharing one server never see each other's counts."""
    return f"gatehouse-test:{uuid.uuid4().hex}:"


@pytest.fixture
def throwaway_redis() -> Iterator[RedisServer]:
    """A `redis-server` of this test's own, not yet started: the test decides when it is up."""
    binary = redis_server_binary()
    if binary is None:
        unavailable("redis-server is not installed (needed to stop and restart a Redis)")
    server = RedisServer(binary)
    yield server
    server.stop()
