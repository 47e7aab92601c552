# ruff: noqa: S603 -- it runs the project's own executables
"""`make fuzz`: schemathesis against the live /openapi.json of a throwaway Gatehouse server.

It creates a temporary directory, migrates a fresh SQLite database there, creates an admin
with the CLI, starts `gatehouse serve` on a free loopback port (rate limit off, a random
signing secret), waits for /health/live, logs the admin in and runs schemathesis with the
admin's bearer token and a bounded number of examples per operation. The checks: no 5xx, and
every response conforms to the document (status code, content type, body schema).

The operations that would end the fuzzer's own session are excluded (see "Fuzzing" in
README.md). The exit status is non-zero when schemathesis found a problem, when the server
logged an unexpected error (`api_error`, printed here), or when the fuzzer's admin lost its
session or its role along the way (the rest of the run would have tested nothing). The server
is always stopped and the directory removed.

Usage: python scripts/fuzz.py [--max-examples N] [--seed N] [--workers N] [-- more schemathesis args]
(also FUZZ_MAX_EXAMPLES, FUZZ_SEED and FUZZ_WORKERS in the environment).
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
GATEHOUSE = BIN / "gatehouse"
SCHEMATHESIS = BIN / "schemathesis"
ADMIN_EMAIL = "fuzz-admin@example.com"
ADMIN_USERNAME = "fuzz_admin"
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 15.0
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Each exclusion, and why, is in README.md under "Fuzzing". These are schemathesis's labels.
EXCLUDED = [
    "POST /api/v1/auth/logout",  # ends the fuzzer's own session
    "POST /api/v2/auth/logout",
    "POST /api/v1/users/me/password",  # a password change ends every session of the user
    "POST /api/v2/users/me/password",
    "DELETE /api/v1/users/{user_id}",  # may delete the fuzzer's own admin account
    "DELETE /api/v2/users/{user_id}",
    "DELETE /api/v1/users/me/sessions/{session_id}",  # may end the fuzzer's own session
    "DELETE /api/v2/users/me/sessions/{session_id}",
    "DELETE /api/v1/users/{user_id}/sessions",  # may sign the fuzzer's own admin out everywhere
    "DELETE /api/v2/users/{user_id}/sessions",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fail(message: str) -> NoReturn:
    print(f"fuzz: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def server_environment() -> dict[str, str]:
    """The caller's environment minus every GATEHOUSE_* variable, plus the fuzz settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GATEHOUSE_")}
    env.update(
        GATEHOUSE_JWT_SECRET=secrets.token_urlsafe(48),
        GATEHOUSE_RATE_LIMIT_PER_MINUTE="0",
        GATEHOUSE_LOG_LEVEL="WARNING",  # keep api_error (ERROR), drop one line per request
        PYTHONUNBUFFERED="1",
    )
    return env


def call(url: str, *, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One request to the loopback server: (status, decoded JSON body or None)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (http on loopback)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return int(status), json.loads(raw)
    except ValueError:
        return int(status), None


def run_cli(workdir: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(GATEHOUSE), *args], cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        fail(f"`gatehouse {args[0]} {args[1]}` failed: {result.stderr.strip()}")


def wait_until_live(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /health/live until it answers 200; give up if the server dies or the deadline passes."""
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        if server.poll() is not None:
            fail(f"the server exited with {server.returncode} before it was live:\n{log.read_text()}")
        try:
            if call(f"{base}/health/live")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            fail(f"the server was not live after {START_DEADLINE_S:.0f}s:\n{log.read_text()}")
        time.sleep(0.05)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def server_errors(log: Path) -> list[dict[str, Any]]:
    """The server's `api_error` lines: each unexpected exception, with its stack trace."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "api_error":
            found.append(entry)
    return found


def schemathesis_command(base: str, args: argparse.Namespace) -> list[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base}/openapi.json",
        "--url",
        base,
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        # One worker: with several threads, CPython 3.11's ast.parse (which hypothesis calls
        # to describe its lambdas) can raise "AST constructor recursion depth mismatch".
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    for name in EXCLUDED:
        command += ["--exclude-name", name]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    return command + args.extra


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES") or 50))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FUZZ_WORKERS") or 1))
    seed = os.environ.get("FUZZ_SEED")
    parser.add_argument("--seed", type=int, default=int(seed) if seed else None)
    parser.add_argument("extra", nargs="*", help="more schemathesis arguments, after --")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    for tool in (GATEHOUSE, SCHEMATHESIS):
        if not tool.exists():
            fail(f"{tool} is missing; run `make install` first")
    # A CI runner cancels with SIGTERM: unwind through the `finally` that stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with tempfile.TemporaryDirectory(prefix="gatehouse-fuzz-") as scratch:
        workdir = Path(scratch)
        env = server_environment()
        password = "Fuzz-Adm1n-" + secrets.token_hex(8)
        run_cli(workdir, env, "db", "upgrade")
        run_cli(workdir, env, "users", "create", "--email", ADMIN_EMAIL, "--username", ADMIN_USERNAME,
                "--password", password, "--role", "admin")  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = workdir / "serve.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [str(GATEHOUSE), "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=workdir,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_live(base, server, log)
            status, tokens = call(
                f"{base}/api/v1/auth/token", body={"email": ADMIN_EMAIL, "password": password}
            )
            if status != 200:
                fail(f"the admin could not log in: {status} {tokens}")
            token = tokens["access_token"]
            command = schemathesis_command(base, args)
            print("fuzz: " + " ".join(command) + "  (+ the admin's bearer token)", flush=True)
            # The token is a header option, kept off the printed command line.
            started = time.monotonic()
            code = subprocess.run(
                [*command, "--header", f"Authorization: Bearer {token}"], cwd=workdir, check=False
            ).returncode
            elapsed = time.monotonic() - started
            try:
                me_status, me = call(f"{base}/api/v1/users/me", token=token)
            except OSError as error:  # the server died during the run
                me_status, me = 0, str(error)
        finally:
            stop(server)
        crashes = server_errors(log)

    for entry in crashes[:10]:
        print(f"\nfuzz: server api_error:\n{json.dumps(entry, indent=2)}", file=sys.stderr)
    if crashes:
        print(f"fuzz: the server logged {len(crashes)} unexpected errors (api_error)", file=sys.stderr)
        code = code or 1
    signed_in = isinstance(me, dict) and me.get("role") == "admin" and me.get("is_active") is True
    if me_status != 200 or not signed_in:
        print(
            f"fuzz: the fuzzer's admin lost its session or role during the run (GET /users/me: "
            f"{me_status} {me}); the requests after that tested little. See README.md, Fuzzing.",
            file=sys.stderr,
        )
        code = code or 1
    print(f"fuzz: schemathesis ran for {elapsed:.0f}s; exit status {code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
