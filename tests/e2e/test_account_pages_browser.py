"""§10 the account pages in a real browser: the links of real mails, followed and submitted.

A real `gatehouse serve` on a free loopback port delivers its mails to a real SMTP sink
(aiosmtpd); headless Chromium, driven over the DevTools protocol (tests/e2e/cdp.py) with every
host but 127.0.0.1 unresolvable, opens the links, fills the forms and clicks. Without a browser
the browser tests are skipped, or fail when CI=true.
"""

import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.cdp import Chromium, Page
from tests.e2e.cli_support import free_port
from tests.e2e.test_docs_browser import ENSURE_CHROMIUM, browser_binary, missing
from tests.gatehouse_server import GatehouseServer, migrated_server
from tests.mail_server import SmtpSink

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGES = ("/account/verify-email", "/account/reset-password")
ASSETS = {"account.css": "text/css", "account.js": "text/javascript"}
MAIL_DEADLINE_S = 20.0  # the contract: a reachable server has the mail within 10 s of its commit
PASSWORD, WEAK, NEW_PASSWORD = "Original-Pass1", "weakpassword", "Brand-New-Pass2"

VERIFIED = "Your email address is confirmed. You can close this page."
VERIFY_INVALID = "This link is invalid or has expired. Request a new verification email."
RESET_DONE = "Your password has been changed. You can now log in with it."
RESET_INVALID = "This reset link is invalid, already used or expired. Request a new one."
REJECTED = "The new password was not accepted:"
MISMATCH = "The two passwords differ."
INCOMPLETE = "This link is incomplete"

# The status text once no request is in flight (falsy while one is, or while there is none).
SETTLED = (
    "(() => { const s = document.getElementById('status');"
    " return s.dataset.kind !== 'pending' && s.innerText.trim(); })()"
)
FORM_DISABLED = "document.querySelector('button[type=submit]').matches(':disabled')"
COUNT_POSTS = (
    "window.posts = 0; const sent = window.fetch;"
    " window.fetch = (...args) => { window.posts += 1; return sent(...args); }; true"
)


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[GatehouseServer]:
    port = free_port()
    migrated = migrated_server(
        tmp_path_factory.mktemp("account-pages"),
        GATEHOUSE_SMTP_URL=sink.url(),
        GATEHOUSE_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    with GatehouseServer(migrated.cwd, migrated.settings, port=port) as running:
        yield running.start()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    binary = browser_binary()
    if binary is None:
        result = subprocess.run(
            ["bash", str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=600, check=False
        )
        binary = browser_binary()
        if binary is None:
            missing(f"no headless Chromium ({(result.stderr.strip().splitlines() or ['no output'])[-1]})")
    chromium = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Chromium) -> Iterator[Page]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def client(server: GatehouseServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


class Markup(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


def mailed_link(sink: SmtpSink, count: int, recipient: str, page_path: str, public_url: str) -> str:
    """The link to `page_path` in the `count`-th mail the sink received, which must be for `recipient`."""
    mail = sink.wait_for(count, MAIL_DEADLINE_S)[count - 1]
    assert mail.rcpt_tos == (recipient,)
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    assert mail.message.get_content_type() == "text/plain"
    found = re.search(re.escape(public_url + page_path) + r"\?token=[^\s<>\"']+", body.get_content())
    assert found, body.get_content()
    return found[0]


def submit(page: Page, *passwords: str) -> str:
    """Type the passwords (if any) into the form's fields, press its button, return the outcome."""
    for selector, password in zip(("#new-password", "#repeat-password"), passwords, strict=False):
        page.type_into(selector, password)
    page.click("button[type=submit]")
    return str(page.wait_for(SETTLED))


def log_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_pages_are_sent_with_a_strict_policy_and_no_external_asset(client: httpx.Client) -> None:
    for path in PAGES:
        response = client.get(path, params={"token": "anything"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        markup = Markup(response.text)
        urls = [attrs[name] for _, attrs in markup.tags for name in ("src", "href") if name in attrs]
        assert sorted(urls) == ["/account/assets/account.css", "/account/assets/account.js"]
        assert not re.search(r"https?://", response.text)
        assert all(attrs.get("src") for attrs in markup.all("script")), "no inline script"
        assert not markup.all("style")
        assert not [
            attrs for _, attrs in markup.tags if "style" in attrs or any(a.startswith("on") for a in attrs)
        ]


def test_assets_are_the_allowed_two_and_nothing_else(client: httpx.Client) -> None:
    for name, media_type in ASSETS.items():
        response = client.get(f"/account/assets/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["referrer-policy"] == "no-referrer"
    script = client.get("/account/assets/account.js").text
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    for name in ("other.js", "..%2Faccount_pages.py", "%2E%2E%2F%2E%2E%2Fapp.py"):
        response = client.get(f"/account/assets/{name}")
        assert response.status_code == 404
        assert response.json()["error"] == "NotFoundError"


def test_forms_are_labelled_and_ask_for_new_passwords(client: httpx.Client) -> None:
    for path in PAGES:
        markup = Markup(client.get(path).text)
        assert markup.all("html") == [{"lang": "en"}]
        assert markup.all("h1")
        assert [s.get("aria-live") for s in markup.all("div") if s.get("id") == "status"] == ["polite"]
        labelled = {label["for"] for label in markup.all("label")}
        assert {field["id"] for field in markup.all("input")} == labelled
    inputs = Markup(client.get("/account/reset-password").text).all("input")
    assert [(i["type"], i["autocomplete"]) for i in inputs] == [("password", "new-password")] * 2
    assert all(int(i["minlength"]) >= 8 and "required" in i for i in inputs)


@pytest.mark.parametrize("path", PAGES)
def test_a_link_without_its_token_says_so_and_disables_the_form(
    server: GatehouseServer, page: Page, path: str
) -> None:
    page.navigate(server.url + path)

    assert page.wait_for(SETTLED).startswith(INCOMPLETE)
    assert page.evaluate(FORM_DISABLED) is True
    assert page.problems() == []


@pytest.mark.parametrize(("path", "passwords", "message"), [
    ("/account/verify-email", (), VERIFY_INVALID),
    ("/account/reset-password", (NEW_PASSWORD, NEW_PASSWORD), RESET_INVALID),
])  # fmt: skip
def test_an_invalid_token_shows_the_invalid_link_message(
    server: GatehouseServer, page: Page, path: str, passwords: tuple[str, ...], message: str
) -> None:
    page.navigate(f"{server.url}{path}?token=not-a-token-we-issued")
    assert page.evaluate("location.href") == server.url + path, "the token left the address bar"

    assert submit(page, *passwords) == message
    assert page.evaluate(FORM_DISABLED) is True
    assert page.problems() == []


def test_sign_up_confirm_the_email_then_reset_the_password_in_the_browser(
    server: GatehouseServer, sink: SmtpSink, client: httpx.Client, page: Page
) -> None:
    email = "reader@example.com"
    mails = len(sink.received)
    created = client.post("/api/v1/users", json={"email": email, "username": "reader", "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["email_verified"] is False

    page.navigate(mailed_link(sink, mails + 1, email, "/account/verify-email", server.url))
    assert page.evaluate("location.href") == f"{server.url}/account/verify-email"
    page.evaluate(COUNT_POSTS)
    page.evaluate("const b = document.querySelector('button'); b.click(); b.click(); true")
    assert page.wait_for(SETTLED) == VERIFIED
    assert page.evaluate("window.posts") == 1, "a double click sends one request"
    token = log_in(client, email, PASSWORD).json()["access_token"]
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email_verified"] is True

    requested = client.post("/api/v1/auth/password-reset", json={"email": email})
    assert requested.status_code == 202, requested.text
    link = mailed_link(sink, mails + 2, email, "/account/reset-password", server.url)
    reset_in_browser(page, client, link)

    assert log_in(client, email, NEW_PASSWORD).status_code == 200
    assert log_in(client, email, PASSWORD).status_code == 401
    assert page.problems() == []


def reset_in_browser(page: Page, client: httpx.Client, link: str) -> None:
    """Mismatched fields (not sent), a password the policy rejects (its reasons shown), then a good one."""
    page.navigate(link)
    page.evaluate(COUNT_POSTS)
    assert submit(page, NEW_PASSWORD, NEW_PASSWORD + "x").startswith(MISMATCH)
    assert page.evaluate("window.posts") == 0

    shown = submit(page, WEAK, WEAK)
    reasons = page.evaluate("[...document.querySelectorAll('#status li')].map(li => li.textContent)")
    [token] = parse_qs(urlsplit(link).query)["token"]
    again = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": WEAK})
    assert again.status_code == 422, "a rejected password leaves the token unspent"
    assert shown.startswith(REJECTED)
    assert reasons == [detail["message"] for detail in again.json()["details"]]
    assert page.evaluate(FORM_DISABLED) is False
    assert page.evaluate("document.activeElement.id") == "new-password"

    assert submit(page, NEW_PASSWORD, NEW_PASSWORD) == RESET_DONE
    assert page.evaluate(FORM_DISABLED) is True
