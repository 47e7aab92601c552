# ruff: noqa: S603 -- it runs the project's own executables
"""`make fuzz`: schemathesis against the live /openapi.json of a throwaway Gatehouse server.

It creates a temporary directory, migrates a fresh SQLite database there, creates an admin
with the CLI, starts `gatehouse serve` on a free loopback port (rate limit off, a random
signing secret), waits for /health/live, logs the admin in and runs schemathesis with the
admin's bearer token and a bounded number of examples per operation. Every check schemathesis
has runs (`--checks all`): no 5xx, every response conforms to the document (status, content type,
body, headers), schema-valid input is accepted and invalid input refused, `Allow` and OPTIONS list
the documented methods, and the stateful checks. scripts/schemathesis.toml names the few inputs
whose validity depends on server state (tokens, cursors, `If-Match`), and scripts/fuzz_hooks.py
makes each `Idempotency-Key` it sends unique, as a real client's are.

Schemathesis generates strings with NUL characters (`--generation-allow-x00 true`, made explicit
here) but always as valid UTF-8 (`--generation-codec utf-8`): a JSON document cannot carry anything
else. So after schemathesis a hostile pass of our own sends, over real HTTP, to every operation of
the document: NUL in each string field of the JSON and form bodies, bodies that are not UTF-8
(raw and as percent-escapes), JSON nested 33 and 1000 deep, NUL and invalid UTF-8 escapes in each
query and path parameter, and `If-Match` versions past 2^63 or in non-ASCII digits. Its checks:
no 5xx, every 4xx in the error envelope, and the contract's status where it names one (NUL in a
body or form field: 422; NUL in a query parameter, a body that is not UTF-8, nesting deeper than 32:
400; an id that does not fit: 400 or 404; an `If-Match` that does not fit: 412 or 404).

The operations that would end the fuzzer's own session are excluded (see "Fuzzing" in
README.md). The exit status is non-zero when schemathesis found a problem, when the server
logged an unexpected error (`api_error`, printed here), or when the fuzzer's admin lost its
session or its role along the way (the rest of the run would have tested nothing). The server
is always stopped and the directory removed.

Usage: python scripts/fuzz.py [--max-examples N] [--seed N] [--workers N] [--no-hostile]
[-- more schemathesis args] (also FUZZ_MAX_EXAMPLES, FUZZ_SEED, FUZZ_WORKERS, and FUZZ_HOSTILE=0
for --no-hostile, in the environment).
"""

import argparse
import http.client
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
from collections.abc import Iterator
from dataclasses import dataclass
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
CHECKS = "all"
SCHEMATHESIS_CONFIG = ROOT / "scripts" / "schemathesis.toml"
SCHEMATHESIS_HOOKS = ROOT / "scripts" / "fuzz_hooks.py"
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
        GATEHOUSE_DATA_KEY=secrets.token_urlsafe(48),
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
        "--config-file",
        str(SCHEMATHESIS_CONFIG),
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
        # NUL characters in generated strings (schemathesis's default, stated so it stays on); the
        # codec can only narrow the alphabet, so bytes that are not UTF-8 come from the hostile pass.
        "--generation-allow-x00",
        "true",
        "--generation-codec",
        "utf-8",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    for name in EXCLUDED:
        command += ["--exclude-name", name]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    extra: list[str] = args.extra
    return command + extra


# --- the hostile pass ------------------------------------------------------------------------------

ERROR_NAMES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    412: "PreconditionFailedError",
    413: "PayloadTooLargeError",
    422: "ValidationError",
    429: "RateLimitError",
    431: "RequestHeaderFieldsTooLargeError",
}
ENVELOPE = {"error", "message", "path", "request_id"}
METHODS = ("get", "put", "post", "patch", "delete")
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
BAD_REQUEST = frozenset({400})
INVALID = frozenset({422})
NO_SUCH_ID = frozenset({400, 404})
# 412, or what the resource or the empty body meets first (no such id, a missing field).
PRECONDITION = frozenset({404, 412, 422})


@dataclass
class Hostile:
    """One raw request and the statuses the contract allows for it (empty: any below 500)."""

    label: str
    method: str
    target: str
    body: bytes | None = None
    headers: dict[str, str] | None = None
    expect: frozenset[int] = frozenset()


def _resolve(document: Any, schema: Any) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = document
            for part in ref[2:].split("/"):
                target = target[part]
            return _resolve(document, target)
        return {key: _resolve(document, value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolve(document, item) for item in schema]
    return schema


def _concrete(schema: Any) -> Any:
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if len(options) == 1:
            return {**{k: v for k, v in schema.items() if k != key}, **_concrete(options[0])}
    return schema


def _is_string(schema: Any) -> bool:
    return schema.get("type") == "string" or all(isinstance(v, str) for v in schema.get("enum", [0]))


def _string_paths(schema: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every string field (enums of strings included) of a body schema."""
    schema = _concrete(schema)
    if schema.get("type") == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            yield from _string_paths(sub, (*path, name))
    elif schema.get("type") == "array":
        yield from _string_paths(schema.get("items", {}), (*path, 0))
    elif path and _is_string(schema):
        yield path


def _with_nul(path: tuple[str | int, ...]) -> bytes:
    """A body holding only the field at `path`, whose value is a string with a NUL in it."""
    value: Any = "a\x00b"
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return json.dumps(value).encode()


def _fill(template: str, **values: str) -> str:
    """`template` with each `{name}` replaced by values[name] or, by default, 1."""
    for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
        template = template.replace("{" + name + "}", values.get(name, "1"))
    return template


def hostile_requests(document: Any) -> list[Hostile]:
    """The hostile pass's requests for every operation of the document but the excluded ones."""
    found = []
    for template, item in document["paths"].items():
        for method in (m for m in METHODS if m in item):
            if f"{method.upper()} {template}" in EXCLUDED:
                continue
            spec = _resolve(document, item[method])
            verb, path = method.upper(), _fill(template)
            found += _parameter_requests(verb, template, spec.get("parameters", []))
            content = spec.get("requestBody", {}).get("content", {})
            if JSON_TYPE in content:
                found += _json_requests(verb, path, content[JSON_TYPE]["schema"])
            if FORM_TYPE in content:
                found += _form_requests(verb, path, content[FORM_TYPE]["schema"])
    return found


def _parameter_requests(verb: str, template: str, parameters: list[Any]) -> list[Hostile]:
    found = []
    path = _fill(template)
    for parameter in parameters:
        name, where = parameter["name"], parameter["in"]
        label = f"{verb} {template} {where} {name}"
        if where == "query":
            found += [
                Hostile(f"{label}=NUL", verb, f"{path}?{name}=a%00b", expect=BAD_REQUEST),
                Hostile(f"{label}=%FF", verb, f"{path}?{name}=a%FFb"),
                Hostile(f"{label}=surrogate", verb, f"{path}?{name}=a%ED%A0%80b"),
            ]
        elif where == "path":
            for value_label, value in (("NUL", "1%00"), ("%FF", "%FF"), ("2^63", str(2**63))):
                target = _fill(template, **{name: value})
                found.append(Hostile(f"{label}={value_label}", verb, target, expect=NO_SUCH_ID))
        elif where == "header" and name.lower() == "if-match":
            # ² goes out as latin-1; 2^31 is past a 32-bit version column (PostgreSQL's INTEGER).
            for value_label, value in (("2^31", f'"v{2**31}"'), ("2^63", f'"v{2**63}"'), ("v²", '"v²"')):
                headers = {"If-Match": value, "Content-Type": JSON_TYPE}
                body = b"{}" if verb in {"PUT", "PATCH"} else None
                found.append(Hostile(f"{label}={value_label}", verb, path, body, headers, PRECONDITION))
    return found


def _json_requests(verb: str, path: str, schema: Any) -> list[Hostile]:
    headers = {"Content-Type": JSON_TYPE}
    label = f"{verb} {path} JSON"
    found = [
        Hostile(f"{label} not UTF-8", verb, path, b'{"x":"\xff"}', headers, BAD_REQUEST),
        Hostile(f"{label} 33 deep", verb, path, b"[" * 33 + b"]" * 33, headers, BAD_REQUEST),
        Hostile(f"{label} 1000 deep", verb, path, b'{"a":' * 1000 + b"0" + b"}" * 1000, headers, BAD_REQUEST),
    ]
    for field in _string_paths(schema):
        name = ".".join(str(part) for part in field)
        # A body with only this field: its NUL is refused, or the missing fields are (422 either way).
        found.append(Hostile(f"{label} NUL in {name}", verb, path, _with_nul(field), headers, INVALID))
    return found


def _form_requests(verb: str, path: str, schema: Any) -> list[Hostile]:
    headers = {"Content-Type": FORM_TYPE}
    label = f"{verb} {path} form"
    fields = dict.fromkeys(_concrete(schema).get("properties", {}), "x")
    found = [
        Hostile(f"{label} not UTF-8", verb, path, b"username=a\xffb&password=x", headers, BAD_REQUEST),
        Hostile(f"{label} %FF", verb, path, b"username=a%FFb&password=x", headers, BAD_REQUEST),
    ]
    for name in fields:
        body = "&".join(f"{k}={'a%00b' if k == name else v}" for k, v in fields.items()).encode()
        found.append(Hostile(f"{label} NUL in {name}", verb, path, body, headers, INVALID))
    return found


def send_hostile(port: int, token: str, hostile: Hostile) -> str | None:
    """Send one raw request; the problem with its answer, or None."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", **(hostile.headers or {})}
        connection.request(hostile.method, hostile.target, body=hostile.body, headers=headers)
        response = connection.getresponse()
        status, raw = response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return f"{hostile.label}: no answer ({type(error).__name__}: {error})"
    finally:
        connection.close()
    text = raw[:200].decode("utf-8", "replace")
    if status >= 500:
        return f"{hostile.label}: {status} {text}"
    if hostile.expect and status not in hostile.expect:
        return f"{hostile.label}: {status}, expected {sorted(hostile.expect)} {text}"
    if 400 <= status < 500:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not set(body) >= ENVELOPE:
            return f"{hostile.label}: {status} not in the envelope: {text}"
        wanted = ERROR_NAMES.get(status)
        if wanted is not None and body["error"] != wanted:
            return f"{hostile.label}: {status} names {body['error']!r}, not {wanted!r}"
    return None


def hostile_pass(base: str, port: int, token: str) -> list[str]:
    """Every hostile request, in order; the problems found."""
    _, document = call(f"{base}/openapi.json")
    requests = hostile_requests(document)
    problems = [problem for hostile in requests if (problem := send_hostile(port, token, hostile))]
    print(f"fuzz: hostile pass: {len(requests)} requests, {len(problems)} problems", flush=True)
    return problems


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES") or 50))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FUZZ_WORKERS") or 1))
    seed = os.environ.get("FUZZ_SEED")
    parser.add_argument("--seed", type=int, default=int(seed) if seed else None)
    parser.add_argument(
        "--no-hostile",
        action="store_true",
        default=os.environ.get("FUZZ_HOSTILE") == "0",
        help="skip the hostile pass (NUL, bytes that are not UTF-8, deep JSON) after schemathesis",
    )
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
                [*command, "--header", f"Authorization: Bearer {token}"],
                cwd=workdir,
                env={**os.environ, "SCHEMATHESIS_HOOKS": str(SCHEMATHESIS_HOOKS)},
                check=False,
            ).returncode
            elapsed = time.monotonic() - started
            hostile = [] if args.no_hostile else hostile_pass(base, port, token)
            try:
                me_status, me = call(f"{base}/api/v1/users/me", token=token)
            except OSError as error:  # the server died during the run
                me_status, me = 0, str(error)
        finally:
            stop(server)
        crashes = server_errors(log)

    for problem in hostile[:50]:
        print(f"fuzz: hostile pass: {problem}", file=sys.stderr)
    if hostile:
        print(f"fuzz: the hostile pass found {len(hostile)} problems", file=sys.stderr)
        code = code or 1
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
