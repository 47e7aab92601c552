"""`make bench`: drive a real Gatehouse server with wrk and print req/s, p99 and peak memory.

Every row runs on SQLite and then on PostgreSQL (`--db` picks one), and a summary table gives
both side by side with their ratio. The server's workers are pinned to the first cores (one
worker: core 0), wrk to the next core (or the last one, shared, when the workers take them all),
32 connections, rate limit off. The list page is also served by a bare ASGI app doing the same
query and encoding (scripts/bench_baseline.py), and Gatehouse's rate is printed as a share of
it. It is a benchmark, not a test: it never fails the build. Usage:
    python scripts/bench.py [--db both|sqlite|postgres] [--workers 1] [--duration 10] [--users 300]
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATEHOUSE = ROOT / ".venv" / "bin" / "gatehouse"
PYTHON = ROOT / ".venv" / "bin" / "python"
BASELINE_LABEL = "bare ASGI list page (scripts/bench_baseline.py)"
FLOOD_LABEL = "GET /users/me while 8 connections log in"
PASSWORD = "Bench-Passw0rd"
SECRET = "bench-signing-secret-0123456789-abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: install it (Debian: apt-get install wrk) and run make bench again")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("wrk did not install")


def call(base: str, method: str, path: str, body: dict[str, object] | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else {}


def wait_ready(base: str, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(base + "/health/live", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("the server did not become ready")


def drain(base: str, deadline_s: float = 60) -> None:
    """Wait until no password hash is queued, so one row's backlog doesn't spill into the next."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        depth = re.search(r"^gatehouse_password_hash_queue_depth\S*\s+([\d.]+)", text, re.M)
        if depth is None or float(depth.group(1)) == 0:
            return
        time.sleep(0.2)


def tree_rss_kib(pid: int) -> int:
    """Resident memory of `pid` and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (OSError, AttributeError):
            continue
    return total


class PeakMemory:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def lua_post(body_template: str, unique: bool) -> str:
    """A wrk script that POSTs JSON; with `unique`, each request gets a fresh counter in the body."""
    counter = (
        'counter = 0\nrequest = function()\n  counter = counter + 1\n'
        '  local id = tostring(math.random(1, 1e9)) .. "x" .. counter\n'
        f'  local body = string.gsub(\'{body_template}\', "ID", id)\n'
        '  return wrk.format("POST", nil, {["Content-Type"]="application/json"}, body)\nend\n'
    )
    fixed = (
        f"wrk.method = \"POST\"\nwrk.body = '{body_template}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return counter if unique else fixed


class Cores:
    """Where the server's workers and wrk run: workers on cores 0..n-1, wrk on core n, or on the
    last core (shared with a worker) when the workers take every core."""

    def __init__(self, workers: int) -> None:
        available = os.cpu_count() or 1
        last = min(workers, available) - 1
        self.server = f"0-{last}" if last else "0"
        self.wrk = str(min(workers, available - 1))
        self.shared = workers >= available

    def describe(self, workers: int) -> str:
        where = f"core{'s' if workers > 1 else ''} {self.server}"
        load = f"wrk on core {self.wrk}" + (" (shared with a worker)" if self.shared else "")
        return f"{workers} worker{'s' if workers > 1 else ''} on {where}, {load}"


CORES = Cores(1)


def run_wrk(wrk: str, url: str, seconds: int, connections: int, token: str | None, script: str | None) -> tuple[float, str]:
    cmd = ["taskset", "-c", CORES.wrk, wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        cmd += ["-s", lua.name]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=False).stdout
    os.unlink(lua.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    note = f" ({non2xx.group(1)} non-2xx)" if non2xx else ""
    return (float(rps.group(1)) if rps else 0.0), (p99.group(1) if p99 else "?") + note


def make_url_text(url: str) -> str:
    """A SQLAlchemy URL as psql takes it."""
    return url.replace("postgresql+asyncpg", "postgresql")


def postgres_url() -> str:
    """The server the tests use: on loopback's standard port, else a throwaway cluster started
    from Debian's packages (installed when missing and we are root), removed at exit."""
    sys.path.insert(0, str(ROOT))
    from tests.databases import postgres_server_url

    return postgres_server_url().render_as_string(hide_password=False)


def start_server(db: str, workdir: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(GATEHOUSE_JWT_SECRET=SECRET, GATEHOUSE_DATA_KEY=SECRET[::-1], GATEHOUSE_RATE_LIMIT_PER_MINUTE="0")
    env.update(GATEHOUSE_LOG_LEVEL="WARNING")
    if db == "postgres":
        url = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL") or postgres_url()
        name = f"gh_bench_{os.getpid()}"
        admin = url.rsplit("/", 1)[0].replace("postgresql+asyncpg", "postgresql")
        subprocess.run(["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", f"{admin}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        env["GATEHOUSE_DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    else:
        env["GATEHOUSE_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    subprocess.run([str(GATEHOUSE), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=workdir)
    server = subprocess.Popen(
        ["taskset", "-c", CORES.server, str(GATEHOUSE), "serve", "--port", str(port), "--workers", str(workers)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return server, f"http://127.0.0.1:{port}", env


def start_baseline(env: dict[str, str], workdir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    baseline = subprocess.Popen(
        ["taskset", "-c", CORES.server, str(PYTHON), str(ROOT / "scripts" / "bench_baseline.py"), str(port),
         str(workers)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return baseline, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def interleaved_timing(base: str, path: str, emails: dict[str, str], users: int) -> None:
    """POST `{email}` to `path` for each kind of address in turn (`emails`: kind -> template with
    `{n}`), one request at a time, each address once (the throttles allow 3 an hour); print the
    median and p90 of each kind, so a difference between them shows up side by side."""
    timings: dict[str, list[float]] = {kind: [] for kind in emails}
    for n in range(users):
        for kind, template in emails.items():
            started = time.perf_counter()
            call(base, "POST", path, {"email": template.format(n=n)})
            timings[kind].append((time.perf_counter() - started) * 1000)
    for kind, values in timings.items():
        values.sort()
        median, p90 = values[len(values) // 2], values[int(len(values) * 0.9)]
        label = f"POST {path.removeprefix('/api/v1')} ({kind} email)"
        print(f"{label:<58} {len(values):>6} requests, median {median:.2f} ms, p90 {p90:.2f} ms")


def reset_timing(base: str, users: int) -> None:
    """§10: a password-reset request takes the same time for a known and an unknown address."""
    emails = {"known": "user{n}@bench.test", "unknown": "ghost{n}@bench.test"}
    interleaved_timing(base, "/api/v1/auth/password-reset", emails, users)


def resend_timing(base: str, users: int) -> None:
    """§10: an anonymous verification resend takes the same time for an unverified account (the
    signed-up `user{n}`) and an unknown address."""
    emails = {"unverified": "user{n}@bench.test", "unknown": "ghost{n}@bench.test"}
    interleaved_timing(base, "/api/v1/auth/verify-email/resend", emails, users)


def post_status(base: str, path: str, body: dict[str, object]) -> tuple[int, dict]:
    try:
        return 200, call(base, "POST", path, body)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def mfa_login_timing(base: str, users: int) -> None:
    """§12: a log-in one request at a time, without MFA (one step) and with it (the password step's
    403, then the code), each account once; median and p90 of the whole log-in, side by side."""
    import pyotp  # a runtime dependency of Gatehouse, in the same venv

    count = min(40, users // 2)
    secrets: dict[int, str] = {}
    for n in range(count):
        token = call(base, "POST", "/api/v1/auth/token", {"email": f"user{n}@bench.test", "password": PASSWORD})
        auth = token["access_token"]
        pending = call(base, "POST", "/api/v1/users/me/mfa/totp", {"password": PASSWORD}, auth)
        secrets[n] = pending["secret"]
        call(base, "POST", "/api/v1/users/me/mfa/totp/confirm", {"code": pyotp.TOTP(secrets[n]).now()}, auth)
    timings: dict[str, list[float]] = {"without MFA": [], "with MFA, both steps": []}
    for n in range(count):
        started = time.perf_counter()
        status, _ = post_status(base, "/api/v1/auth/token", {"email": f"user{count + n}@bench.test", "password": PASSWORD})
        timings["without MFA"].append((time.perf_counter() - started) * 1000)
        assert status == 200, status
        started = time.perf_counter()
        status, body = post_status(base, "/api/v1/auth/token", {"email": f"user{n}@bench.test", "password": PASSWORD})
        assert status == 403, status
        code = pyotp.TOTP(secrets[n]).at(time.time() + 30)  # the enrolment spent this step's code
        status, _ = post_status(base, "/api/v1/auth/token/mfa", {"mfa_token": body["mfa_token"], "code": code})
        timings["with MFA, both steps"].append((time.perf_counter() - started) * 1000)
        assert status == 200, status
    for kind, values in timings.items():
        values.sort()
        median, p90 = values[len(values) // 2], values[int(len(values) * 0.9)]
        label = f"log-in ({kind})"
        print(f"{label:<58} {len(values):>6} log-ins, median {median:.2f} ms, p90 {p90:.2f} ms")


Row = tuple[float, str, float]  # req/s, p99 (and any non-2xx count), peak RSS in MB
PAGE = "/users?page=3&page_size=50"
SIGNUP_BODY = '{"email":"new_ID@bench.test","username":"n_ID","password":"' + PASSWORD + '"}'
LOGIN_BODY = '{"email":"user7@bench.test","password":"' + PASSWORD + '"}'


class Engine:
    """One engine's server, seeded with an admin (its session and API token) and `users` accounts."""

    def __init__(self, db: str, args: argparse.Namespace, wrk: str) -> None:
        self.db, self.args, self.wrk = db, args, wrk
        self.results: dict[str, Row] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="gatehouse-bench-"))
        self.server, self.base, self.env = start_server(db, self.workdir, args.workers)
        self.api = self.base + "/api/v1"

    def seed(self) -> None:
        wait_ready(self.base)
        subprocess.run(
            [str(GATEHOUSE), "users", "create", "--email", "admin@bench.test", "--username", "bench_admin",
             "--password", PASSWORD, "--role", "admin"], env=self.env, cwd=self.workdir, check=True,
            capture_output=True,
        )
        self.other = 0
        for n in range(self.args.users):
            created = call(self.base, "POST", "/api/v1/users",
                           {"email": f"user{n}@bench.test", "username": f"bench_user_{n}", "password": PASSWORD})
            self.other = self.other or int(created["id"])
        self.token = call(self.base, "POST", "/api/v1/auth/token",
                          {"email": "admin@bench.test", "password": PASSWORD})["access_token"]
        self.api_token = call(self.base, "POST", "/api/v1/users/me/tokens",
                              {"name": "bench", "scopes": ["profile:read", "users:read"]}, self.token)["token"]
        self.me = call(self.base, "GET", "/api/v1/users/me", token=self.token)["id"]

    def measure(self, label: str, url: str, token: str | None, script: str | None, pid: int | None = None) -> None:
        drain(self.base)
        with PeakMemory(pid or self.server.pid) as mem:
            rps, p99 = run_wrk(self.wrk, url, self.args.duration, 32, token, script)
        self.results[label] = (rps, p99, mem.peak / 1024)
        print(f"{label:<48} {self.db:<9} {rps:>9.0f} {p99:>22} {mem.peak / 1024:>8.0f}MB", flush=True)

    def baseline(self) -> None:
        baseline, baseline_base = start_baseline(self.env, self.workdir, self.args.workers)
        try:
            wait_ready(baseline_base)
            self.measure(BASELINE_LABEL, f"{baseline_base}/api/v1{PAGE}", self.token, None, baseline.pid)
        finally:
            stop(baseline)

    def flood(self) -> None:
        flood_script = self.workdir / "flood.lua"
        # An account the MFA timing left without a second factor, so every log-in ends in a session.
        body = '{"email":"user' + str(self.args.users - 1) + '@bench.test","password":"' + PASSWORD + '"}'
        flood_script.write_text(lua_post(body, unique=False))
        drain(self.base)
        flood = subprocess.Popen(
            ["taskset", "-c", CORES.wrk, self.wrk, "-t1", "-c8", f"-d{self.args.duration + 2}s",
             "-s", str(flood_script), f"{self.api}/auth/token"],
            stdout=subprocess.PIPE, text=True,
        )
        time.sleep(1)
        with PeakMemory(self.server.pid) as mem:
            rps, p99 = run_wrk(self.wrk, f"{self.api}/users/me", self.args.duration, 32, self.token, None)
        flood_out, _ = flood.communicate()
        logins = re.search(r"Requests/sec:\s+([\d.]+)", flood_out)
        refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", flood_out)
        self.results[FLOOD_LABEL] = (rps, p99, mem.peak / 1024)
        print(f"{FLOOD_LABEL:<48} {self.db:<9} {rps:>9.0f} {p99:>22} {mem.peak / 1024:>8.0f}MB")
        print(f"{'  the flood itself: POST /auth/token':<48} {self.db:<9} "
              f"{float(logins.group(1)) if logins else 0:>9.0f}{' (' + refused.group(1) + ' non-2xx)' if refused else ''}")

    def close(self) -> None:
        stop(self.server)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.db == "postgres":
            url = make_url_text(self.env["GATEHOUSE_DATABASE_URL"])
            admin, name = url.rsplit("/", 1)
            subprocess.run(["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=False)


def run(engines: list[Engine], args: argparse.Namespace) -> None:
    """Each row on every engine back to back, so a ratio compares runs seconds apart."""
    wanted = (lambda label: not args.only or args.only in label)
    for engine in engines:
        engine.seed()
    print(f"\nGatehouse benchmark — {CORES.describe(args.workers)}, {args.duration}s per row")
    print(f"{'endpoint':<48} {'engine':<9} {'req/s':>9} {'p99':>22} {'peak RSS':>10}")
    reads: list[tuple[str, Callable[[Engine], tuple[str, str | None]]]] = [
        ("GET /users/me", lambda e: (f"{e.api}/users/me", e.token)),
        ("GET /users/me with an API token", lambda e: (f"{e.api}/users/me", e.api_token)),
        ("GET /users/{id} (one's own)", lambda e: (f"{e.api}/users/{e.me}", e.token)),
        ("GET /users/{id} (another account)", lambda e: (f"{e.api}/users/{e.other}", e.token)),
        (f"GET {PAGE}", lambda e: (f"{e.api}{PAGE}", e.token)),
    ]
    for label, target in reads:
        for engine in engines:
            if wanted(label):
                engine.measure(label, *target(engine), None)
        if label == f"GET {PAGE}" and wanted(BASELINE_LABEL):
            for engine in engines:
                engine.baseline()
    for label, url, script in [
        ("POST /users", "/users", lua_post(SIGNUP_BODY, unique=True)),
        ("POST /auth/token", "/auth/token", lua_post(LOGIN_BODY, unique=False)),
    ]:
        for engine in engines:
            if wanted(label):
                engine.measure(label, engine.api + url, None, script)
    for engine in engines:
        print(f"-- {engine.db}")
        if not args.only or "reset" in args.only:
            reset_timing(engine.base, args.users)
        if not args.only or "resend" in args.only:
            resend_timing(engine.base, args.users)
        if not args.only or "MFA" in args.only:
            mfa_login_timing(engine.base, args.users)
    if wanted(FLOOD_LABEL):
        for engine in engines:
            engine.flood()


def machine() -> str:
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    import sqlite3

    return (
        f"{os.cpu_count()} cores ({cpu.group(1) if cpu else platform.machine()}), "
        f"{int(memory.group(1)) // 1024 // 1024 if memory else '?'} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres or 'psql ?'}"
    )


def summary(results: dict[str, dict[str, Row]], workers: int) -> None:
    """Both engines side by side, PostgreSQL as a share of SQLite, and the derived ratios."""
    print(f"\nSummary ({CORES.describe(workers)}) — {machine()}")
    engines = [db for db in ("sqlite", "postgres") if db in results]
    labels = [label for db in engines for label in results[db] if label != BASELINE_LABEL]
    labels = list(dict.fromkeys(labels))
    head = " | ".join(f"{db} req/s | {db} p99" for db in engines)
    print(f"| row | {head} |" + (" PostgreSQL / SQLite |" if len(engines) == 2 else ""))
    print("| --- |" + " ---: | ---: |" * len(engines) + (" ---: |" if len(engines) == 2 else ""))
    for label in [*labels, BASELINE_LABEL]:
        cells, rates = [], []
        for db in engines:
            row = results[db].get(label)
            cells.append(f"{row[0]:,.0f} | {row[1]}" if row else "– | –")
            rates.append(row[0] if row else 0.0)
        ratio = f" {rates[1] / rates[0]:.0%} |" if len(engines) == 2 and rates[0] else (" – |" if len(engines) == 2 else "")
        print(f"| {label} | {' | '.join(cells)} |{ratio}")
    for db in engines:
        rows = results[db]
        page = next((row for label, row in rows.items() if label.startswith("GET /users?")), None)
        if page and BASELINE_LABEL in rows and rows[BASELINE_LABEL][0]:
            print(f"{db}: the list page at {page[0] / rows[BASELINE_LABEL][0]:.0%} of the bare ASGI baseline")
        if FLOOD_LABEL in rows and rows.get("GET /users/me", (0.0,))[0]:
            share = rows[FLOOD_LABEL][0] / rows["GET /users/me"][0]
            print(f"{db}: reads during the log-in flood at {share:.0%} of their unloaded rate")


def main() -> None:
    global CORES
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--only", help="run only rows whose label contains this text")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--check", action="store_true", help="exit 1 if a GET row served nothing or errors")
    args = parser.parse_args()
    CORES = Cores(args.workers)
    wrk = ensure_wrk()
    engines: list[Engine] = []
    try:
        for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
            engines.append(Engine(db, args, wrk))
        run(engines, args)
    finally:
        for engine in engines:
            engine.close()
    summary({engine.db: engine.results for engine in engines}, args.workers)
    if args.check:
        broken = [
            f"{engine.db}: {label} ({rps:.0f} req/s, {p99})"
            for engine in engines
            for label, (rps, p99, _) in engine.results.items()
            if label.startswith("GET") and (rps <= 0 or "non-2xx" in p99)
        ]
        if broken or not any(engine.results for engine in engines):
            sys.exit("bench check failed: " + ("; ".join(broken) or "no row ran"))


if __name__ == "__main__":
    main()
