"""Running the installed `gatehouse` command in a directory of its own, with a clean environment."""

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GATEHOUSE = str(Path(sys.executable).with_name("gatehouse"))
STRONG_SECRET = "a-cli-test-signing-secret-of-more-than-32-bytes"
DATA_KEY = "a-cli-test-data-key-of-more-than-32-bytes-too"
TIMEOUT_S = 60


def clean_environment(**extra: str) -> dict[str, str]:
    """The test's environment minus every GATEHOUSE_* variable, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GATEHOUSE_")}
    env.update(extra)
    return env


@dataclass
class Cli:
    cwd: Path
    env: dict[str, str] = field(default_factory=clean_environment)

    def __call__(
        self, *args: str, stdin: str | None = None, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        """Never at a terminal: standard input is `stdin`, or nothing at all."""
        return subprocess.run(
            [GATEHOUSE, *args],
            cwd=self.cwd,
            env={**self.env, **extra_env},
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def users(self, *args: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = json.loads(self.ok("users", "list", "--json", *args))
        return listed

    def create(self, email: str, username: str, *args: str) -> dict[str, Any]:
        created: dict[str, Any] = json.loads(
            self.ok(
                "users", "create", "--email", email, "--username", username, "--password", "Secret123", *args
            )
        )
        return created

    @property
    def database(self) -> Path:
        return self.cwd / "var" / "gatehouse.db"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """A non-zero exit with exactly one line on stderr that mentions each of `words`."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    for word in words:
        assert word.lower() in line.lower(), line
    return line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
