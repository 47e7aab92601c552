"""§7 the docs pages in a real browser: /docs and /redoc render every operation with no internet.

A real `gatehouse serve` on a free loopback port; headless Chromium (Debian's `chromium`,
installed by scripts/ensure-chromium.sh when missing and we are root) loads each page with
every host but 127.0.0.1 unresolvable, runs its scripts, and prints the rendered DOM. The
operations are only in that DOM if the page's JavaScript, served by Gatehouse, rendered them
from /openapi.json. Without a browser the tests are skipped, or fail when CI=true.
"""

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from tests.e2e.cdp import Chromium, Page
from tests.e2e.cli_support import DATA_KEY, GATEHOUSE, STRONG_SECRET, Cli, free_port

ROOT = Path(__file__).resolve().parents[2]
ENSURE_CHROMIUM = ROOT / "scripts" / "ensure-chromium.sh"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
START_DEADLINE_S = 30
BROWSER_TIMEOUT_S = 90
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
# Summaries a reader looks for first; each must be rendered on both pages.
SUMMARIES = [
    "Create an account",
    "Log in",
    "Place an order",
    "Read an account",
    "List accounts (cursor pages)",
]


# How many operations each page has rendered, read from its DOM.
RENDERED_OPERATIONS = {
    "/docs": "document.querySelectorAll('.opblock').length",
    "/redoc": "document.querySelectorAll('[id^=\"operation/\"]').length",
}


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def browser_binary() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing(reason: str) -> NoReturn:
    """No browser: a failure under CI=true, else a skip with the reason."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = browser_binary()
    if binary is None:
        result = subprocess.run(
            ["bash", str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=600, check=False
        )
        binary = browser_binary()
        if binary is None:
            why = result.stderr.strip().splitlines()[-1:] or ["no output"]
            missing(f"no headless Chromium ({why[0]})")
    return binary


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cli = Cli(tmp_path_factory.mktemp("docs-browser"))
    cli.ok("db", "upgrade")
    port = free_port()
    log = cli.cwd / "serve.log"
    env = {
        **cli.env,
        "GATEHOUSE_JWT_SECRET": STRONG_SECRET,
        "GATEHOUSE_DATA_KEY": DATA_KEY,
        "GATEHOUSE_RATE_LIMIT_PER_MINUTE": "0",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [GATEHOUSE, "serve", "--port", str(port)],
            cwd=cli.cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{running.url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"not live after {START_DEADLINE_S}s:\n{log.read_text()}"
            time.sleep(0.05)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def rendered(chromium: str, url: str, profile: Path) -> str:
    """The DOM after the page's scripts ran, in headless Chromium with only loopback reachable."""
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            # Every name but 127.0.0.1 fails to resolve: an asset from a CDN can't load.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "<body" in result.stdout, result.stderr[-2000:]
    return result.stdout


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_swagger_ui_renders_every_operation_with_no_internet(
    chromium: str, server: Server, document: dict[str, Any], tmp_path: Path
) -> None:
    raw = httpx.get(f"{server.url}/docs", timeout=10).text
    dom = rendered(chromium, f"{server.url}/docs", tmp_path / "profile")

    shown = set(re.findall(r'opblock-summary-method">([A-Z]+)</span>.{0,300}?data-path="([^"]+)"', dom))
    summaries = set(re.findall(r'<div class="opblock-summary-description">([^<]*)</div>', dom))
    expected = {(method, path) for method, path, _ in operations(document)}
    assert "opblock" not in raw  # so what follows was rendered by Swagger UI's scripts
    assert len(expected) > 30
    assert shown == expected
    assert {"/api/v1/users", "/api/v1/users/{user_id}/orders", "/api/v2/auth/token"} <= {p for _, p in shown}
    assert set(SUMMARIES) <= summaries


def test_redoc_renders_every_operation_with_no_internet(
    chromium: str, server: Server, document: dict[str, Any], tmp_path: Path
) -> None:
    dom = rendered(chromium, f"{server.url}/redoc", tmp_path / "profile")

    sections = set(re.findall(r'\sid="operation/([^"]+)"', dom))
    headings = {text.strip() for text in re.findall(r"<h2[^>]*>(?:<a[^>]*></a>)?([^<]+)</h2>", dom)}
    expected = {operation["operationId"] for _, _, operation in operations(document)}
    assert len(expected) > 30
    assert sections == expected
    assert set(SUMMARIES) <= headings
    assert re.search(r">\s*/api/v1/users/\{user_id\}/orders\s*<", dom), "paths are shown too"


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    running = Chromium(chromium, tmp_path_factory.mktemp("cdp-profile"))
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def page(browser: Chromium) -> Iterator[Page]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_render_under_a_csp_that_forbids_framing_without_a_violation(
    page: Page, server: Server, document: dict[str, Any], path: str
) -> None:
    policy = httpx.get(f"{server.url}{path}", timeout=10).headers.get("content-security-policy", "")
    page.navigate(f"{server.url}{path}")

    assert "frame-ancestors 'none'" in policy
    assert page.wait_for(f"{RENDERED_OPERATIONS[path]} >= {len(operations(document))}", 30)
    assert page.problems() == []  # no script error, nothing the CSP refused (a worker, a style, eval)


@pytest.mark.parametrize(
    ("path", "container"), [("/docs", "swagger-container"), ("/redoc", "redoc-container")]
)
def test_docs_pages_refuse_to_be_framed_even_by_their_own_origin(
    page: Page, server: Server, path: str, container: str
) -> None:
    page.navigate(f"{server.url}/health/live")
    page.evaluate(
        "(() => { const frame = document.createElement('iframe');"
        " frame.onload = () => { window.__frameLoaded = true; };"
        f" frame.src = {json.dumps(path)}; document.body.appendChild(frame); }})()"
    )
    page.wait_for("window.__frameLoaded === true")

    framed = page.evaluate(
        "(() => { const doc = document.querySelector('iframe').contentDocument;"
        f" return doc !== null && doc.getElementById({json.dumps(container)}) !== null; }})()"
    )
    assert framed is False
    assert any("frame-ancestors" in problem for problem in page.problems()), page.problems()


def test_swagger_ui_authorize_logs_in_with_the_oauth2_password_flow(page: Page, server: Server) -> None:
    """§7: the Authorize button logs in (the OAuth2 password form, posted to /api/v1/auth/token),
    and "Try it out" then calls a protected route with the token it got."""
    account = {"email": "swagger@example.com", "username": "swagger_user", "password": "Swagger-Pass-42"}
    signed_up = httpx.post(f"{server.url}/api/v1/users", json=account, timeout=10)
    assert signed_up.status_code == 201, signed_up.text
    page.navigate(f"{server.url}/docs#/users/readMe")
    page.wait_for("document.querySelector('.btn.authorize') !== null", 30)

    page.click(".btn.authorize")
    page.wait_for("document.querySelector('#oauth_username') !== null")
    page.type_into("#oauth_username", account["username"])
    page.type_into("#oauth_password", account["password"])
    page.click('[aria-label="Apply given OAuth2 credentials"]')  # the OAuth2Password section's button
    logged_in = (
        "[...document.querySelectorAll('.auth-container')].some(c => /Authorized/.test(c.textContent))"
    )
    page.wait_for(logged_in, 15)
    assert "Auth Error" not in page.evaluate("document.querySelector('.modal-ux').textContent")
    page.click(".close-modal")

    page.wait_for("document.querySelector('.opblock.is-open .try-out__btn') !== null")
    page.click(".opblock.is-open .try-out__btn")
    page.wait_for("document.querySelector('.opblock.is-open .execute') !== null")
    page.click(".opblock.is-open .execute")
    status = "document.querySelector('.opblock.is-open .live-responses-table tbody .response-col_status')"
    assert page.wait_for(f"{status} && {status}.textContent.trim()", 15) == "200"
    answer = (
        "document.querySelector('.opblock.is-open .live-responses-table tbody .response-col_description')"
    )
    body = page.evaluate(f"{answer}.textContent")
    assert account["email"] in body
    assert page.problems() == []
