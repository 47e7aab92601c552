"""§1/§5 `gatehouse db prune`, run as the installed command on SQLite and PostgreSQL."""

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.mail_outbox import SqlAlchemyMailQueue
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports.api_tokens import NewApiToken
from gatehouse.application.ports.credentials import TokenPurpose
from gatehouse.domain.scopes import Scope
from tests.databases import ENGINES, migrated_postgres_url
from tests.e2e.cli_support import Cli, assert_one_line_error
from tests.housekeeping_builders import (
    NewUow,
    fingerprint,
    idempotency_stored,
    plant_account_token,
    plant_idempotency_record,
    plant_mail,
    plant_sent_mail,
    plant_session,
    plant_user,
    session_stored,
)

T = TypeVar("T")
HOUR = timedelta(hours=1)
KINDS = {
    "sessions",
    "refresh_tokens",
    "account_tokens",
    "mfa_challenges",
    "api_tokens",
    "idempotency_records",
    "mails",
}


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `db upgrade` per module; each SQLite test gets a copy of the result."""
    template = Cli(tmp_path_factory.mktemp("housekeeping_template"))
    template.ok("db", "upgrade")
    return template.database.parent


@pytest.fixture(params=ENGINES)
def cli_and_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_template: Path) -> tuple[Cli, str]:
    """The CLI in a directory of its own over a migrated database: its own SQLite file, or this
    run's PostgreSQL database (emptied first) named by GATEHOUSE_DATABASE_URL."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    cli = Cli(workdir)
    if request.param == "sqlite":
        shutil.copytree(migrated_template, workdir / "var")
        return cli, f"sqlite+aiosqlite:///{cli.database}"

    async def emptied() -> str:
        async with migrated_postgres_url() as url:
            return url

    url = asyncio.run(emptied())
    cli.env["GATEHOUSE_DATABASE_URL"] = url
    return cli, url


def units_of_work(database: Database) -> NewUow:
    return lambda: SqlAlchemyUnitOfWork(database)


def on_database(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` against the CLI's database, in an event loop of its own."""

    async def run() -> T:
        database = Database(url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


async def plant_spent_and_live_rows(database: Database) -> dict[str, int]:
    """Of each kind one row (or two) past its use and one still of use; the ids of the sessions."""
    new_uow, now = units_of_work(database), datetime.now(UTC)
    ada = await plant_user(new_uow, "ada", now - 30 * HOUR)
    ended = await plant_session(
        new_uow,
        ada,
        created_at=now - 3 * HOUR,
        expires_at=now + HOUR,
        revoked_at=now - 2 * HOUR,
        refresh_tokens=("ended-1", "ended-2"),
    )
    live = await plant_session(
        new_uow, ada, created_at=now - 3 * HOUR, expires_at=now + HOUR, refresh_tokens=("live",)
    )
    await plant_account_token(
        new_uow,
        "spent",
        user_id=ada.id,
        created_at=now - 3 * HOUR,
        expires_at=now + HOUR,
        spent_at=now - 2 * HOUR,
    )
    bob = await plant_user(new_uow, "bob", now - 30 * HOUR)
    await plant_account_token(new_uow, "unspent", user_id=bob.id, created_at=now, expires_at=now + HOUR)
    await plant_idempotency_record(new_uow, "old", now - 26 * HOUR, answered=True)
    await plant_idempotency_record(new_uow, "fresh", now - HOUR, answered=True)
    await plant_sent_mail(new_uow, SqlAlchemyMailQueue(database), "sent", now - 2 * HOUR)
    await plant_mail(new_uow, "suppressed", now - 2 * HOUR, deliver=False)
    await plant_mail(new_uow, "pending", now - 2 * HOUR)
    async with new_uow() as uow:
        for name, expires in (
            ("revoked", now + HOUR),
            ("lapsed", now - 31 * 24 * HOUR),
            ("kept", now - HOUR),
        ):
            token = await uow.api_tokens.add(
                NewApiToken(
                    user_id=bob.id,
                    name=name,
                    scopes=frozenset({Scope.PROFILE_READ}),
                    digest=fingerprint(name),
                    created_at=now - 40 * 24 * HOUR,
                    expires_at=expires,
                )
            )
            if name == "revoked":
                await uow.api_tokens.revoke(token.id, now - 2 * HOUR)
        await uow.commit()
    return {"ended": ended.id, "live": live.id}


async def survivors(database: Database, sessions: dict[str, int]) -> dict[str, bool]:
    new_uow = units_of_work(database)
    found = {name: await session_stored(new_uow, sid) for name, sid in sessions.items()}
    async with new_uow() as uow:
        for name in ("ended-1", "live"):
            found[f"refresh:{name}"] = await uow.sessions.find_refresh_token(fingerprint(name)) is not None
        for name in ("spent", "unspent"):
            token = await uow.account_tokens.find(TokenPurpose.RESET_PASSWORD, fingerprint(name))
            found[f"token:{name}"] = token is not None
    for key in ("old", "fresh"):
        found[f"idempotency:{key}"] = await idempotency_stored(new_uow, key)
    async with new_uow() as uow:
        stored = {token.name for token in await uow.api_tokens.list_unrevoked(None)}
        stored |= {t.name for tid in (1, 2, 3) if (t := await uow.api_tokens.get(tid)) is not None}
    found["api token revoked"] = "revoked" in stored
    found["api token lapsed"] = "lapsed" in stored  # expired over 30 days ago
    found["api token kept"] = "kept" in stored  # expired an hour ago: still listed to its owner
    pending = await SqlAlchemyMailQueue(database).depth()
    found["pending mail"] = pending == 1
    return found


def test_db_prune_deletes_what_served_its_purpose_and_prints_the_counts(cli_and_url: tuple[Cli, str]) -> None:
    cli, url = cli_and_url
    sessions = on_database(url, plant_spent_and_live_rows)

    result = cli("db", "prune")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "sessions": 1,
        "refresh_tokens": 2,
        "account_tokens": 1,
        "mfa_challenges": 0,
        "api_tokens": 2,
        "idempotency_records": 1,
        "mails": 2,
    }
    assert on_database(url, lambda db: survivors(db, sessions)) == {
        "ended": False,
        "live": True,
        "refresh:ended-1": False,
        "refresh:live": True,
        "token:spent": False,
        "token:unspent": True,
        "idempotency:old": False,
        "idempotency:fresh": True,
        "api token revoked": False,
        "api token lapsed": False,
        "api token kept": True,
        "pending mail": True,
    }
    again = json.loads(cli.ok("db", "prune"))
    assert set(again) == KINDS
    assert set(again.values()) == {0}


def test_db_prune_on_a_database_that_was_never_migrated_says_so_in_one_line(tmp_path: Path) -> None:
    result = Cli(tmp_path)("db", "prune")

    assert_one_line_error(result, "db upgrade")


def test_db_prune_help_says_what_it_deletes(tmp_path: Path) -> None:
    out = Cli(tmp_path).ok("db", "--help")

    assert "prune" in out
    assert "upgrade" in out
