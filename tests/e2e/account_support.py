"""Helpers for the account tests (CONTRACT §10): sign-ups, the outbox, mail links, audit pages."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from sqlalchemy import select, update

from gatehouse.adapters.sqlalchemy.tables import account_tokens, mail_outbox
from gatehouse.entrypoints.settings import Settings
from tests.e2e.conftest import Account, Api, assert_envelope, database_url, start, test_settings

AUTH = "/api/v1/auth"
USERS = "/api/v1/users"
AUDIT = "/api/v1/audit-events"
VERIFY = f"{AUTH}/verify-email"
RESEND = f"{AUTH}/verify-email/resend"
RESET = f"{AUTH}/password-reset"
CONFIRM = f"{AUTH}/password-reset/confirm"
SIGN_UP_PASSWORD = "Lifecycle-Pass-73"
NEW_PASSWORD = "Renewed-Pass-4815"
LINK = re.compile(r"(https?://\S+/account/(verify-email|reset-password)\?token=\S+)")


@dataclass(frozen=True)
class Mail:
    """One row of the outbox, as stored."""

    id: int
    recipient: str
    subject: str
    body: str
    status: str


@asynccontextmanager
async def custom_api(engine: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Api]:
    """Like conftest's `api` fixture, over settings with `overrides` (client address 127.0.0.1)."""
    async with database_url(engine, tmp_path) as url:
        container, app = await start(test_settings(tmp_path, database_url=url, **overrides))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(client, container)
        finally:
            await container.database().dispose()
            container.hasher().close()


async def caller(api: Api, who: str) -> Account | None:
    """The signed-in account for `who` (None for anonymous); "admin" is the fixture's admin."""
    if who == "anonymous":
        return None
    if who == "admin":
        return await api.admin()
    return await api.create_account(who)


def headers(account: Account | None) -> dict[str, str]:
    return account.auth if account is not None else {}


async def me(api: Api, account: Account) -> dict[str, Any]:
    response = await api.client.get(f"{USERS}/me", headers=account.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_rate_limited(response: httpx.Response) -> None:
    """429 in the contract's envelope, with a positive whole `Retry-After`."""
    assert_envelope(response, 429, "RateLimitError")
    assert int(response.headers["retry-after"]) >= 1


def assert_unauthenticated(response: httpx.Response) -> None:
    assert_envelope(response, 401, "AuthenticationError")
    assert response.headers["www-authenticate"] == "Bearer"


async def sign_up(api: Api, name: str, password: str = SIGN_UP_PASSWORD, **extra: Any) -> dict[str, Any]:
    """An anonymous sign-up of `name@example.com`; the created user as answered (201)."""
    body = {"email": f"{name}@example.com", "username": name, "password": password, **extra}
    response = await api.client.post(USERS, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def signed_up(api: Api, name: str, password: str = SIGN_UP_PASSWORD) -> Account:
    """A signed-up (unverified) user, logged in."""
    user = await sign_up(api, name, password)
    token, refresh = await api.login(user["email"], password)
    return Account(user["id"], user["email"], name, password, token, refresh)


async def outbox(api: Api) -> list[Mail]:
    """Every mail of the outbox, oldest first, whatever its status."""
    stmt = select(mail_outbox).order_by(mail_outbox.c.id)
    async with api.container.database().read_engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [Mail(r.id, r.recipient, r.subject, r.body, r.status) for r in rows]


async def pending_to(api: Api, recipient: str) -> list[Mail]:
    return [m for m in await outbox(api) if m.recipient == recipient and m.status == "pending"]


def link_in(text: str, page: str) -> str:
    """The one link to `/account/{page}` in a mail's text."""
    links = [m.group(1) for m in LINK.finditer(text) if m.group(2) == page]
    assert len(links) == 1, text
    return links[0]


def token_in(text: str, page: str) -> str:
    query = parse_qs(urlsplit(link_in(text, page)).query)
    return unquote(query["token"][0])


async def last_token(api: Api, recipient: str, page: str = "verify-email") -> str:
    """The token of the newest pending mail to `recipient` holding a link to `page`."""
    mails = [m for m in await pending_to(api, recipient) if f"/account/{page}?" in m.body]
    assert mails, f"no pending {page} mail to {recipient}"
    return token_in(mails[-1].body, page)


async def expire_tokens(api: Api, email: str) -> None:
    """Move every token sent to `email` a day and a half into the past."""
    stmt = (
        update(account_tokens)
        .where(account_tokens.c.email == email)
        .values(expires_at=account_tokens.c.created_at)
    )
    async with api.container.database().write_engine.begin() as conn:
        await conn.execute(stmt)


def eml_files(settings: Settings) -> list[EmailMessage]:
    """The `.eml` files the file transport wrote, by name (creation time, then outbox id)."""
    folder = Path(settings.outbox_dir)
    parser = BytesParser(EmailMessage, policy=default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, message
    content: str = part.get_content()
    return content


async def audit_trail(api: Api, **query: str | int) -> list[dict[str, Any]]:
    """Every audit event matching `query`, newest first, walked by cursor as an admin."""
    headers = (await api.admin()).auth
    params: dict[str, str | int] = {"limit": 100, **query}
    items: list[dict[str, Any]] = []
    while True:
        response = await api.client.get(AUDIT, params=params, headers=headers)
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items
        params = {**params, "cursor": cursor}


async def actions_of(api: Api, user_id: int) -> list[str]:
    """The actions recorded about `user_id`, oldest first."""
    return [e["action"] for e in reversed(await audit_trail(api, user_id=user_id))]
