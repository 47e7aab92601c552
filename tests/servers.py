"""Real servers for fault tests: throwaway PostgreSQL and Redis that a test may stop and start
again, and fresh databases on a shared server (`gatehouse serve` itself: tests.gatehouse_server).

A server that can't be had skips the test with a one-line reason, or fails it when `CI=true`.
"""

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from glob import glob
from pathlib import Path
from typing import Any, NoReturn, Self, TypeVar
from urllib.parse import urlsplit

import asyncpg
import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from tests.e2e.cli_support import free_port

T = TypeVar("T")
DEADLINE_S = 30.0
SHARED_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
CLAIM_KEY = "gatehouse-test:claimed-by"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def unavailable(reason: str) -> NoReturn:
    """Skip the test with `reason`, or fail it on CI where every server is promised."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a thread of its own (safe inside a running event loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make()).result()


def apt_install(package: str) -> None:
    if IS_ROOT and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", package], capture_output=True, timeout=600, env=env)


class ThrowawayServer:
    """A server process of the test's own on a free loopback port; `stop` closes the port,
    `start` again serves on the same port."""

    stop_signal = signal.SIGTERM
    user: str | None = None

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        self._process = process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=self.user
        )
        deadline = time.monotonic() + DEADLINE_S
        while not self.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                unavailable(f"throwaway {self.command()[0]} on port {self.port} did not come up")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(self.stop_signal)
        try:
            process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=DEADLINE_S)

    def restart(self) -> None:
        self.stop()
        self.start()

    def signal(self, signum: int) -> None:
        assert self._process is not None
        self._process.send_signal(signum)

    def remove(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()


def postgres_binaries(install: bool = True) -> tuple[str, str] | None:
    """(initdb, postgres), installing Debian's package first when missing and we are root."""
    for folder in ["/usr/local/bin", *sorted(glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        if Path(folder, "initdb").exists() and Path(folder, "postgres").exists():
            return f"{folder}/initdb", f"{folder}/postgres"
    if install:
        apt_install("postgresql")
        return postgres_binaries(install=False)
    return None


async def _postgres_execute(dsn: str, sql: str, timeout_s: float = 10) -> bool:
    """Run `sql` on a connection of its own; False when the server can't be reached."""
    try:
        connection = await asyncpg.connect(dsn, timeout=timeout_s)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    try:
        await connection.execute(sql)
    finally:
        await connection.close()
    return True


class ThrowawayPostgres(ThrowawayServer):
    """A cluster in a temporary folder, run as `postgres` when we are root (Debian's binaries
    refuse root). `stop` is a fast shutdown that disconnects every client."""

    stop_signal = signal.SIGINT

    def __init__(self) -> None:
        super().__init__()
        self._frozen: list[int] = []
        binaries = postgres_binaries()
        if binaries is None:
            unavailable("no PostgreSQL binaries (initdb, postgres) and they could not be installed")
        initdb, self._postgres = binaries
        self.data = Path(tempfile.mkdtemp(prefix="gatehouse-pg-"))
        self.user = "postgres" if IS_ROOT else None
        if self.user is not None:
            shutil.chown(self.data, self.user, self.user)
        created = subprocess.run(
            [initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            capture_output=True,
            user=self.user,
            timeout=120,
            check=False,
        )
        if created.returncode != 0:
            self.remove()
            unavailable(f"initdb failed: {created.stderr.decode(errors='replace').strip()[-200:]}")

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def command(self) -> list[str]:
        settings = ("listen_addresses=127.0.0.1", "unix_socket_directories=", "fsync=off")
        options = [arg for setting in settings for arg in ("-c", setting)]
        return [self._postgres, "-D", str(self.data), "-p", str(self.port), *options]

    def answers(self) -> bool:
        return run_async(lambda: _postgres_execute(self.dsn, "SELECT 1", 1))

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: the port still accepts, nothing answers."""
        assert self._process is not None
        root = self._process.pid
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(p) == root]
        self._frozen = [root, *children]
        for pid in self._frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        frozen, self._frozen = self._frozen, []
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        super().stop()

    def remove(self) -> None:
        super().remove()
        shutil.rmtree(self.data, ignore_errors=True)


def _parent(pid: str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new database (as an asyncpg SQLAlchemy URL) on GATEHOUSE_TEST_POSTGRES_URL, else on the
    server at 127.0.0.1:5432, else on a throwaway server; dropped afterwards."""
    with contextlib.ExitStack() as stack:
        configured = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL")
        base = make_url(configured or SHARED_POSTGRES).set(drivername="postgresql")
        admin = base.render_as_string(hide_password=False)
        if not run_async(lambda: _postgres_execute(admin, "SELECT 1", 1)):
            if configured:
                unavailable("PostgreSQL at GATEHOUSE_TEST_POSTGRES_URL does not answer")
            server = stack.enter_context(ThrowawayPostgres())
            base, admin = make_url(server.dsn), server.dsn
        name = f"gatehouse_fault_{uuid.uuid4().hex[:12]}"
        assert run_async(lambda: _postgres_execute(admin, f'CREATE DATABASE "{name}"'))
        try:
            url = base.set(drivername="postgresql+asyncpg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            run_async(lambda: _postgres_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def redis_answers(url: str) -> bool:
    client = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


class ThrowawayRedis(ThrowawayServer):
    """A `redis-server` without persistence: a restart starts empty."""

    def __init__(self) -> None:
        super().__init__()
        binary = shutil.which("redis-server")
        if binary is None:
            apt_install("redis-server")
            binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed and could not be installed")
        self._binary = binary

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        port = str(self.port)
        return [self._binary, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    def answers(self) -> bool:
        return redis_answers(self.url)


@contextlib.contextmanager
def own_redis_db() -> Iterator[str]:
    """The URL of an empty Redis db number (15 down to 1) claimed on GATEHOUSE_TEST_REDIS_URL's
    server, else 127.0.0.1:6379, else a throwaway server; flushed afterwards."""
    with contextlib.ExitStack() as stack:
        configured = os.environ.get("GATEHOUSE_TEST_REDIS_URL")
        base = configured or SHARED_REDIS
        if not redis_answers(base):
            if configured:
                unavailable("Redis at GATEHOUSE_TEST_REDIS_URL does not answer")
            base = stack.enter_context(ThrowawayRedis()).url
        token = uuid.uuid4().hex
        for number in range(15, 0, -1):
            url = urlsplit(base)._replace(path=f"/{number}").geturl()
            client = Redis.from_url(url, socket_timeout=2)
            stack.callback(client.close)
            if client.set(CLAIM_KEY, token, nx=True, ex=900) and client.dbsize() == 1:
                stack.callback(client.flushdb)
                yield url
                return
            if client.get(CLAIM_KEY) == token.encode():
                client.delete(CLAIM_KEY)
        unavailable("no empty Redis db number (1-15) to claim")
