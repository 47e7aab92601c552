"""`gatehouse serve` as a subprocess of the test's own, and the few HTTP calls every fault test makes."""

import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.cli_support import DATA_KEY, GATEHOUSE, STRONG_SECRET, clean_environment, free_port

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 30.0
PASSWORD = "Secret123"


HASH_MARK = "$argon2"


def wait_for(condition: Callable[[], bool], deadline_s: float, what: str, poll_s: float = 0.05) -> None:
    """Poll `condition` until it holds; AssertionError naming `what` once `deadline_s` passes."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {deadline_s}s"
        time.sleep(poll_s)


class GatehouseServer:
    """`gatehouse serve` in `cwd` as a subprocess of its own session; stdout+stderr to a log file."""

    def __init__(
        self, cwd: Path, settings: dict[str, str], *, workers: int = 1, port: int | None = None
    ) -> None:
        self.cwd = cwd
        self.port = port or free_port()
        self.workers = workers
        self.settings = settings  # the GATEHOUSE_* variables, to start another server like this one
        (cwd / "tmp").mkdir(exist_ok=True)  # TMPDIR: the metrics folders of --workers land here
        # The data key that seals MFA secrets: serve needs one (a test of its absence passes "").
        defaults = {"PYTHONUNBUFFERED": "1", "TMPDIR": str(cwd / "tmp"), "GATEHOUSE_DATA_KEY": DATA_KEY}
        if (cwd / "var" / "data_key").exists():  # as `make run` leaves it: the file is the key
            del defaults["GATEHOUSE_DATA_KEY"]
        self.env = clean_environment(**{**defaults, **settings})
        self.log = cwd / f"serve-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> "GatehouseServer":
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [GATEHOUSE, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                cwd=self.cwd,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_live()
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_live(self) -> None:
        """Until /health/live answers 200 and every worker has logged that its start-up is complete."""
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            assert self.running(), f"gatehouse serve exited:\n{self.output()}"
            with contextlib.suppress(httpx.TransportError):
                live = httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200
                if live and len(self.events("Application startup complete.")) >= self.workers:
                    return
            assert time.monotonic() < deadline, f"not live after {START_DEADLINE_S}s:\n{self.output()}"
            time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON object the server has logged so far (non-JSON lines skipped)."""
        entries = []
        for line in self.output().splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def events(self, name: str) -> list[dict[str, Any]]:
        return [entry for entry in self.log_lines() if entry.get("event") == name]

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, timeout_s: float = STOP_DEADLINE_S) -> int:
        """SIGTERM, then the exit code (AssertionError if it takes longer than `timeout_s`)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"gatehouse serve still running {timeout_s}s after SIGTERM") from None

    def kill(self) -> None:
        """SIGKILL the server and any worker it started (its whole process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_DEADLINE_S)

    def __enter__(self) -> "GatehouseServer":
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=15)
            self.kill()  # also reaps workers left behind by a supervisor that died
            if exc_type is None:  # every real server's whole output: no password hash, ever (§7)
                assert HASH_MARK not in self.output(), "a password hash reached the server's output"


def migrated_server(
    cwd: Path, *, workers: int = 1, settings: dict[str, str] | None = None, **more: str
) -> GatehouseServer:
    """A (not yet started) server over a database migrated with `gatehouse db upgrade`; the
    signing secret and an unlimited rate unless `settings` or `more` say otherwise."""
    env = {
        "GATEHOUSE_JWT_SECRET": STRONG_SECRET,
        "GATEHOUSE_DATA_KEY": DATA_KEY,
        "GATEHOUSE_RATE_LIMIT_PER_MINUTE": "0",
        **(settings or {}),
        **more,
    }
    upgrade = subprocess.run(
        [GATEHOUSE, "db", "upgrade"],
        cwd=cwd,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    return GatehouseServer(cwd, env, workers=workers)


def sign_up(client: httpx.Client, name: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post(
        "/api/v1/users", json={"email": f"{name}@example.com", "username": name, "password": password}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def log_in(client: httpx.Client, name: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/token", json={"email": f"{name}@example.com", "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
