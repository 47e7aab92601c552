"""§1/§10 the CLI's maintenance commands: `audit list`, `audit prune`, `mail deliver`, run as installed."""

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, insert, select

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.tables import audit_events, mail_outbox
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.entrypoints.settings import Settings
from tests.e2e.account_support import SIGN_UP_PASSWORD, eml_files, text_of, token_in
from tests.e2e.cli_support import Cli, assert_one_line_error
from tests.e2e.conftest import start, test_settings
from tests.mail_server import closed_port

T = TypeVar("T")
EVENT_FIELDS = {"id", "at", "action", "actor_id", "user_id", "ip", "request_id", "details"}
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `db upgrade` per module; each test gets a copy of the result (a CLI run costs a second)."""
    template = Cli(tmp_path_factory.mktemp("lifecycle_template"))
    template.ok("db", "upgrade")
    return template.database.parent


@pytest.fixture
def cli(tmp_path: Path, migrated_template: Path) -> Cli:
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copytree(migrated_template, workdir / "var")
    return Cli(workdir)


def on_database(cli: Cli, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` against the CLI's own SQLite file, in a loop of its own."""

    async def run() -> T:
        database = Database(f"sqlite+aiosqlite:///{cli.database}")
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


def add_event(cli: Cli, action: str, at: datetime, user_id: int | None = None) -> None:
    async def work(database: Database) -> None:
        row = {"at": at, "action": action, "user_id": user_id, "details": {"planted": True}}
        async with database.write_engine.begin() as conn:
            await conn.execute(insert(audit_events).values(**row))

    on_database(cli, work)


def stored_events(cli: Cli) -> list[tuple[str, int | None]]:
    """(action, user_id) of every stored audit event, oldest first, read from the database itself."""

    async def work(database: Database) -> list[tuple[str, int | None]]:
        stmt = select(audit_events.c.action, audit_events.c.user_id).order_by(audit_events.c.id)
        async with database.read_engine.connect() as conn:
            return [(row.action, row.user_id) for row in await conn.execute(stmt)]

    return on_database(cli, work)


def outbox_size(cli: Cli) -> int:
    async def work(database: Database) -> int:
        async with database.read_engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(mail_outbox))).scalar_one())

    return on_database(cli, work)


def sign_up_in_process(cli: Cli, tmp_path: Path, *names: str) -> None:
    """Anonymous sign-ups through the real container over the CLI's database (each queues a mail)."""

    async def run() -> None:
        settings: Settings = test_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{cli.database}")
        container, _ = await start(settings)
        try:
            for name in names:
                command = RegisterUser.Command(
                    email=f"{name}@example.com", username=name, password=SIGN_UP_PASSWORD
                )
                await container.register_user().execute(command)
        finally:
            await container.database().dispose()
            container.hasher().close()

    asyncio.run(run())


def audit(cli: Cli, *args: str, **env: str) -> list[dict[str, Any]]:
    result = cli("audit", "list", "--json", *args, **env)
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = json.loads(result.stdout)
    return events


def some_history(cli: Cli) -> tuple[int, int]:
    """Two accounts made by the CLI, one promoted, one deactivated; their ids."""
    first = cli.create("first@example.com", "first_one")["id"]
    second = cli.create("second@example.com", "second_one")["id"]
    cli.ok("users", "set-role", str(first), "moderator")
    cli.ok("users", "deactivate", str(second))
    return first, second


# --- users create --------------------------------------------------------------------------------


def test_an_account_made_by_the_cli_starts_verified_and_queues_no_mail(cli: Cli) -> None:
    created = cli.create("ops@example.com", "ops_made")

    assert created["email_verified"] is True
    assert outbox_size(cli) == 0
    assert stored_events(cli) == [("user.created", created["id"])]


# --- audit list ----------------------------------------------------------------------------------


def test_audit_list_json_is_every_event_newest_first(cli: Cli) -> None:
    first, second = some_history(cli)

    events = audit(cli)

    assert all(set(e) == EVENT_FIELDS for e in events)
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert [(e["action"], e["user_id"]) for e in events] == [
        ("user.deactivated", second),
        ("user.role_changed", first),
        ("user.created", second),
        ("user.created", first),
    ]
    assert all(datetime.fromisoformat(e["at"]).utcoffset() is not None for e in events)
    assert all(e["at"].endswith("Z") for e in events)  # as the API writes times, not +00:00


def test_audit_list_filters_by_action_user_and_since(cli: Cli) -> None:
    add_event(cli, "auth.login_failed", NOW - timedelta(days=3000), user_id=1)  # before, as in time
    first, _ = some_history(cli)
    assert first == 1

    assert {e["action"] for e in audit(cli, "--action", "user.created")} == {"user.created"}
    assert len(audit(cli, "--action", "user.created")) == 2
    mine = audit(cli, "--user", str(first))
    assert [e["action"] for e in mine] == ["user.role_changed", "user.created", "auth.login_failed"]
    recent = audit(cli, "--user", str(first), "--since", (NOW - timedelta(days=1)).isoformat())
    assert [e["action"] for e in recent] == ["user.role_changed", "user.created"]
    assert len(audit(cli, "--since", (NOW - timedelta(days=1)).date().isoformat())) == 4


def test_audit_list_without_json_prints_a_table(cli: Cli) -> None:
    some_history(cli)

    lines = cli.ok("audit", "list").strip().splitlines()

    assert "ACTION" in lines[0]
    assert len(lines) == 1 + 4
    assert all(line.split()[1].endswith("Z") for line in lines[1:])
    assert [line.split()[2] for line in lines[1:]] == [
        "user.deactivated",
        "user.role_changed",
        "user.created",
        "user.created",
    ]
    with pytest.raises(json.JSONDecodeError):
        json.loads("\n".join(lines))


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--since", "yesterday"), "since"),
        (("--since", "2026-02-30"), "since"),
        (("--action", "user.exploded"), "action"),
    ],
)
def test_audit_list_with_a_bad_filter_is_one_line_on_stderr(
    cli: Cli, args: tuple[str, ...], word: str
) -> None:
    result = cli("audit", "list", *args)

    assert_one_line_error(result, word)
    assert result.stdout == ""


# --- audit prune ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "kept"), [({}, ["100 days", "recent"]), ({"GATEHOUSE_AUDIT_RETENTION_DAYS": "30"}, ["recent"])]
)
def test_audit_prune_removes_events_older_than_the_retention(
    cli: Cli, env: dict[str, str], kept: list[str]
) -> None:
    add_event(cli, "auth.logout", NOW - timedelta(days=400), user_id=1)
    add_event(cli, "auth.logout", NOW - timedelta(days=100), user_id=2)
    add_event(cli, "auth.logout", NOW - timedelta(hours=1), user_id=3)
    ages = {1: "400 days", 2: "100 days", 3: "recent"}

    result = cli("audit", "prune", **env)

    assert result.returncode == 0, result.stderr
    assert str(3 - len(kept)) in result.stdout
    assert [ages[user_id] for _, user_id in stored_events(cli) if user_id is not None] == kept


# --- mail deliver --------------------------------------------------------------------------------


def test_mail_deliver_writes_eml_files_under_var_outbox_and_reports(cli: Cli, tmp_path: Path) -> None:
    sign_up_in_process(cli, tmp_path, "postman_one", "postman_two")

    result = cli("mail", "deliver")

    assert result.returncode == 0, result.stderr
    assert "sent 2" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1
    messages = eml_files(Settings(outbox_dir=str(cli.cwd / "var" / "outbox")))
    assert sorted(m["To"] for m in messages) == ["postman_one@example.com", "postman_two@example.com"]
    for message in messages:
        assert token_in(text_of(message), "verify-email")
        assert message.get_content_type() == "text/plain"
    again = cli("mail", "deliver")
    assert again.returncode == 0, again.stderr
    assert "sent 0" in again.stdout
    assert len(list((cli.cwd / "var" / "outbox").glob("*.eml"))) == 2


def test_mail_deliver_to_an_unreachable_server_says_why_in_one_line(cli: Cli, tmp_path: Path) -> None:
    sign_up_in_process(cli, tmp_path, "stranded_one")
    port = closed_port()

    result = cli("mail", "deliver", GATEHOUSE_SMTP_URL=f"smtp://relay:hunter2-s3cret@127.0.0.1:{port}")

    line = assert_one_line_error(result, f"127.0.0.1:{port}", "connection refused", "SMTPConnectError")
    assert result.returncode == 1
    assert "hunter2-s3cret" not in line
    assert "failed 1" in result.stdout
    assert outbox_size(cli) == 1  # still queued, for the retry


# --- A missing database --------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("audit", "list"), ("audit", "prune"), ("mail", "deliver")], ids=" ".join)
def test_maintenance_commands_on_a_missing_database_say_to_run_db_upgrade(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    bare = Cli(tmp_path)

    assert_one_line_error(bare(*args), "db upgrade")
    assert not bare.database.exists()
