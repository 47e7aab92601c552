"""§1 the CLI: `db upgrade` and the `users` chores, run as the installed command in a fresh directory."""

import asyncio
import fcntl
import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import termios
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy.engine import Connection, make_url

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.migrate import MIGRATIONS, head_revision
from tests.e2e.cli_support import (
    DATA_KEY,
    GATEHOUSE,
    STRONG_SECRET,
    TIMEOUT_S,
    Cli,
    assert_one_line_error,
    free_port,
)
from tests.servers import fresh_postgres_database

SIGN_UP = ("--email", "ada@example.com", "--username", "ada_l", "--password", "Secret123")
HEAD = head_revision()
OLDER = "0003"
UNREACHABLE_POSTGRES = "postgresql+asyncpg://nobody:hunter2secret@127.0.0.1:1/x"
USER_FIELDS = {
    "id",
    "email",
    "username",
    "full_name",
    "role",
    "is_active",
    "email_verified",
    "created_at",
    "updated_at",
}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    workdir = tmp_path / "work"
    workdir.mkdir()
    return Cli(workdir)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `db upgrade` per module; each test gets a copy of the result (a CLI run costs a second)."""
    template = Cli(tmp_path_factory.mktemp("template"))
    template.ok("db", "upgrade")
    return template.database.parent


@pytest.fixture
def migrated(cli: Cli, migrated_template: Path) -> Cli:
    shutil.copytree(migrated_template, cli.database.parent)
    return cli


async def migrate_to(path: Path, revision: str) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")

    def run(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with database.write_engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await database.dispose()


def password_of(cli: Cli, username: str) -> str:
    with sqlite3.connect(cli.database) as db:
        [(stored,)] = db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchall()
    return str(stored)


def option_help(text: str) -> dict[str, str]:
    """`--option` → its description, from the "options:" section of argparse's help."""
    entries: list[str] = []
    for line in text.split("options:", 1)[1].splitlines():
        if re.match(r"^  -", line):
            entries.append(line.strip())
        elif line.strip() and entries:
            entries[-1] += "  " + line.strip()
    described = {}
    for entry in entries:
        invocation, _, description = entry.partition("  ")
        described[re.findall(r"--[\w-]+", invocation)[-1]] = " ".join(description.split())
    return described


def at_a_terminal(cli: Cli, args: tuple[str, ...], answers: list[str]) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its controlling terminal (getpass talks to
    /dev/tty); type each of `answers` once a prompt ending in "password: " shows."""
    leader, follower = pty.openpty()

    def take_the_terminal() -> None:  # in the child, after setsid(): the pty becomes its /dev/tty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [GATEHOUSE, *args],
        cwd=cli.cwd,
        env=cli.env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
        preexec_fn=take_the_terminal,  # only an ioctl: safe in a child of a threaded process
    )
    os.close(follower)
    output, typed = b"", 0
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if not select.select([leader], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the command has closed the terminal
                break
            output += chunk
            if typed < len(answers) and output.lower().count(b"password: ") > typed:
                os.write(leader, answers[typed].encode() + b"\n")
                typed += 1
        return process.wait(timeout=TIMEOUT_S), output.decode(errors="replace")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize(
    "args",
    [
        ("users", "list"),
        ("users", "list", "--json"),
        ("users", "create", *SIGN_UP),
        ("users", "set-role", "1", "admin"),
        ("users", "deactivate", "1"),
    ],
    ids=lambda args: " ".join(args[:2]) + (" --json" if "--json" in args else ""),
)
def test_commands_on_a_missing_database_say_to_run_db_upgrade(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)

    assert_one_line_error(result, "db upgrade")
    assert not cli.database.exists()


def test_commands_on_an_unmigrated_database_say_to_run_db_upgrade(cli: Cli) -> None:
    cli.database.parent.mkdir()
    cli.database.touch()

    assert_one_line_error(cli("users", "list"), "db upgrade")


def test_db_upgrade_creates_the_default_database_and_is_idempotent(cli: Cli) -> None:
    first = cli("db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert cli.database.is_file()
    assert f"created the schema of sqlite+aiosqlite:///var/gatehouse.db at revision {HEAD}" in first.stdout
    created = cli.create("ada@example.com", "ada_l")

    again = cli("db", "upgrade")

    assert again.returncode == 0, again.stderr
    assert f"already at the newest revision ({HEAD})" in again.stdout
    assert "created" not in again.stdout
    assert [user["id"] for user in cli.users()] == [created["id"]]


def test_db_upgrade_says_it_migrated_an_older_schema(cli: Cli) -> None:
    cli.database.parent.mkdir()
    asyncio.run(migrate_to(cli.database, OLDER))

    result = cli("db", "upgrade")

    assert result.returncode == 0, result.stderr
    assert f"from revision {OLDER} to {HEAD}" in result.stdout
    assert result.stdout.startswith("migrated ")


def test_a_database_migrated_by_a_newer_release_is_named_in_one_line(migrated: Cli) -> None:
    """A revision this release doesn't ship: `db upgrade` and every other command say so in one
    line (no Alembic traceback, no advice to run `db upgrade`)."""
    with sqlite3.connect(migrated.database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")

    upgrade = migrated("db", "upgrade")
    listing = migrated("users", "list")

    assert_one_line_error(upgrade, "9999_from_the_future", "newer")
    line = assert_one_line_error(listing, "newer")
    assert "db upgrade" not in line


def test_db_upgrade_never_creates_a_missing_folder_of_a_configured_path(cli: Cli) -> None:
    url = f"sqlite+aiosqlite:///{cli.cwd / 'typo' / 'data' / 'gh.db'}"

    result = cli("db", "upgrade", GATEHOUSE_DATABASE_URL=url)

    assert_one_line_error(result, "GATEHOUSE_DATABASE_URL", "typo/data", "does not exist")
    assert list(cli.cwd.iterdir()) == []


def test_users_create_prints_the_user_as_json_without_the_password(migrated: Cli) -> None:
    result = migrated(
        "users",
        "create",
        "--email",
        "Ada@Example.COM",
        "--username",
        "ada_l",
        "--password",
        "Sup3rSecretPw",
        "--full-name",
        "Ada Lovelace",
    )

    assert result.returncode == 0, result.stderr
    assert "Sup3rSecretPw" not in result.stdout
    assert "password" not in result.stdout.lower()
    assert "hash" not in result.stdout.lower()
    user = json.loads(result.stdout)
    assert set(user) >= USER_FIELDS
    assert isinstance(user["id"], int)
    assert user["email"] == "ada@example.com"
    assert user["username"] == "ada_l"
    assert user["full_name"] == "Ada Lovelace"
    assert user["role"] == "user"
    assert user["is_active"] is True
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None
    # As the API writes times (msgspec): UTC with `Z`, not `+00:00`.
    assert user["created_at"].endswith("Z")
    assert user["updated_at"].endswith("Z")


def test_users_create_with_role_admin_makes_an_admin(migrated: Cli) -> None:
    user = migrated.create("root@example.com", "root", "--role", "admin")

    assert user["role"] == "admin"
    assert [u["role"] for u in migrated.users()] == ["admin"]


@pytest.mark.parametrize(
    ("email", "username"),
    [("ADA@example.com", "other_name"), ("other@example.com", "ADA_L")],
    ids=["duplicate-email", "duplicate-username"],
)
def test_users_create_refuses_a_duplicate_in_one_line(migrated: Cli, email: str, username: str) -> None:
    migrated.create("ada@example.com", "ada_l")

    result = migrated("users", "create", "--email", email, "--username", username, "--password", "Secret123")

    assert_one_line_error(result)
    assert len(migrated.users()) == 1


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--email", "not-an-email", "email"),
        ("--username", "a b", "username"),
        ("--password", "short", "password"),
    ],
)
def test_users_create_refuses_invalid_input_naming_the_field(
    migrated: Cli, option: str, value: str, field: str
) -> None:
    args = dict(zip(SIGN_UP[::2], SIGN_UP[1::2], strict=True))
    args[option] = value

    result = migrated("users", "create", *[part for pair in args.items() for part in pair])

    assert_one_line_error(result, field)
    assert migrated.users() == []


def test_users_list_prints_a_table_of_every_user(migrated: Cli) -> None:
    migrated.create("ada@example.com", "ada_l", "--role", "admin")
    migrated.create("bob@example.com", "bob_b")

    lines = migrated.ok("users", "list").strip().splitlines()

    assert len(lines) == 3
    for heading in ("ID", "USERNAME", "EMAIL", "ROLE"):
        assert heading in lines[0]
    assert "ada_l" in lines[1]
    assert "ada@example.com" in lines[1]
    assert "admin" in lines[1]
    assert "bob_b" in lines[2]
    assert "bob@example.com" in lines[2]


def test_users_list_json_and_role_filter(migrated: Cli) -> None:
    admin = migrated.create("ada@example.com", "ada_l", "--role", "admin")
    user = migrated.create("bob@example.com", "bob_b")

    everyone = migrated.users()
    admins = migrated.users("--role", "admin")
    users = migrated.users("--role", "user")

    assert [u["id"] for u in everyone] == [admin["id"], user["id"]]
    assert all(set(u) >= USER_FIELDS for u in everyone)
    assert [u["id"] for u in admins] == [admin["id"]]
    assert [u["id"] for u in users] == [user["id"]]


def test_set_role_and_deactivate_change_the_user(migrated: Cli) -> None:
    migrated.create("root@example.com", "root", "--role", "admin")
    user = migrated.create("bob@example.com", "bob_b")

    migrated.ok("users", "set-role", str(user["id"]), "moderator")
    migrated.ok("users", "deactivate", str(user["id"]))

    changed = next(u for u in migrated.users() if u["id"] == user["id"])
    assert changed["role"] == "moderator"
    assert changed["is_active"] is False


@pytest.mark.parametrize("args", [("set-role", "user"), ("deactivate",)], ids=["set-role", "deactivate"])
def test_the_last_admin_cannot_be_demoted_or_deactivated(migrated: Cli, args: tuple[str, ...]) -> None:
    admin = migrated.create("root@example.com", "root", "--role", "admin")
    command, *rest = args

    result = migrated("users", command, str(admin["id"]), *rest)

    assert_one_line_error(result, "admin")
    [after] = migrated.users()
    assert after["role"] == "admin"
    assert after["is_active"] is True


@pytest.mark.parametrize(
    "args", [("set-role", "999", "user"), ("deactivate", "999")], ids=["set-role", "deactivate"]
)
def test_an_unknown_user_id_fails_in_one_line(migrated: Cli, args: tuple[str, ...]) -> None:
    assert_one_line_error(migrated("users", *args), "999")


def test_the_cli_works_from_any_directory_with_an_absolute_database_url(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "data" / "gatehouse.db"
    places = [tmp_path / name for name in ("a", "b", "c")]
    for place in places:
        place.mkdir()
    url = {"GATEHOUSE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    first, second, third = (Cli(place) for place in places)
    database.parent.mkdir(parents=True)

    assert first("db", "upgrade", **url).returncode == 0
    created = second("users", "create", *SIGN_UP, **url)
    listed = third("users", "list", "--json", **url)

    assert created.returncode == 0, created.stderr
    assert listed.returncode == 0, listed.stderr
    assert "ada@example.com" in listed.stdout
    assert database.is_file()
    assert not any((place / "var").exists() for place in places)


def test_a_relative_database_url_is_relative_to_the_working_directory(cli: Cli) -> None:
    url = {"GATEHOUSE_DATABASE_URL": "sqlite+aiosqlite:///data/own.db"}
    (cli.cwd / "data").mkdir()

    assert cli("db", "upgrade", **url).returncode == 0
    assert cli("users", "create", *SIGN_UP, **url).returncode == 0

    assert (cli.cwd / "data" / "own.db").is_file()
    assert not cli.database.exists()


@pytest.mark.parametrize("raw", ["9223372036854775808", "²", "-1"])
@pytest.mark.parametrize(
    "args",
    [
        ("users", "set-role", "{id}", "user"),
        ("users", "deactivate", "{id}"),
        ("audit", "list", "--user", "{id}"),
    ],
    ids=["set-role", "deactivate", "audit-list"],
)
def test_an_id_that_is_no_account_id_is_bad_input_in_one_line(
    migrated: Cli, args: tuple[str, ...], raw: str
) -> None:
    """§1: an id beyond a signed 64-bit integer (or no whole number at all) is bad input, never a
    traceback, for every command."""
    result = migrated(*(part.replace("{id}", raw) for part in args))
    line = assert_one_line_error(result, "id")
    assert result.returncode == 2
    assert raw in line


# --- Manners: --version, --help, the password, settings errors -----------------------------------


def test_version_needs_no_database_and_no_secret(cli: Cli) -> None:
    result = cli("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"gatehouse {version('gatehouse')}\n"
    assert list(cli.cwd.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ("serve",),
            {"--host": "default: 127.0.0.1", "--port": "default: 8000", "--workers": "default: 1"},
        ),
        (
            ("users", "create"),
            {
                "--email": "required",
                "--username": "required",
                "--password": "default: a prompt",
                "--password-stdin": "standard input",
                "--full-name": "default: none",
                "--role": "default: user",
            },
        ),
        (
            ("audit", "list"),
            {
                "--action": "default: every action",
                "--user": "default: every account",
                "--since": "default: all time",
                "--json": "default: a table",
            },
        ),
    ],
    ids=["serve", "users-create", "audit-list"],
)
def test_help_describes_every_option_and_its_default(
    cli: Cli, command: tuple[str, ...], expected: dict[str, str]
) -> None:
    result = cli(*command, "--help")

    assert result.returncode == 0, result.stderr
    described = option_help(result.stdout)
    assert set(described) == {"--help", *expected}
    for option, words in expected.items():
        assert words in described[option], (option, described[option])
    assert "ONLY_ACTION" not in result.stdout


def test_users_create_reads_the_password_from_one_line_of_stdin(migrated: Cli) -> None:
    result = migrated("users", "create", *SIGN_UP[:4], "--password-stdin", stdin="Sup3rSecretPw\nignored\n")

    assert result.returncode == 0, result.stderr
    assert PasswordHasher().verify(password_of(migrated, "ada_l"), "Sup3rSecretPw")
    assert "Sup3rSecretPw" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("options", "stdin", "words"),
    [
        (("--password", "Secret123", "--password-stdin"), "Secret123\n", ["--password-stdin", "not allowed"]),
        (("--password-stdin",), "", ["--password-stdin", "no password"]),
        ((), "Secret123\n", ["--password-stdin", "terminal"]),
    ],
    ids=["both", "empty-stdin", "no-option-no-terminal"],
)
def test_users_create_without_one_clear_password_source_fails_in_one_line(
    migrated: Cli, options: tuple[str, ...], stdin: str, words: list[str]
) -> None:
    result = migrated("users", "create", *SIGN_UP[:4], *options, stdin=stdin)

    assert_one_line_error(result, *words)
    assert migrated.users() == []


def test_users_create_without_a_password_option_asks_twice_at_the_terminal(migrated: Cli) -> None:
    status, output = at_a_terminal(
        migrated, ("users", "create", *SIGN_UP[:4]), ["Sup3rSecretPw", "Sup3rSecretPw"]
    )

    assert status == 0, output
    assert "Password: " in output
    assert "Sup3rSecretPw" not in output  # not echoed
    [line] = [line for line in output.splitlines() if line.startswith("{")]
    assert json.loads(line)["username"] == "ada_l"
    assert PasswordHasher().verify(password_of(migrated, "ada_l"), "Sup3rSecretPw")


@pytest.mark.parametrize(
    ("env", "args", "words"),
    [
        (
            {"GATEHOUSE_DATABASE_URL": "postgres://gh:hunter2secret@127.0.0.1/gh"},
            ("users", "list"),
            ["GATEHOUSE_DATABASE_URL", "unknown", "postgres"],
        ),
        ({"GATEHOUSE_DATABASE_URL": "sqlite:///var/gatehouse.db"}, ("db", "upgrade"), ["synchronous"]),
        ({"GATEHOUSE_DATABASE_URL": "nonsense"}, ("audit", "list"), ["GATEHOUSE_DATABASE_URL"]),
        (
            {"GATEHOUSE_DATABASE_URL": UNREACHABLE_POSTGRES},
            ("db", "upgrade"),
            ["GATEHOUSE_DATABASE_URL", "connection refused"],
        ),
        (
            {"GATEHOUSE_DATABASE_URL": UNREACHABLE_POSTGRES},
            ("users", "list"),
            ["GATEHOUSE_DATABASE_URL", "connection refused"],
        ),
        ({"GATEHOUSE_LOG_LEVEL": "verbose"}, ("users", "list"), ["GATEHOUSE_LOG_LEVEL", "verbose"]),
        (
            {"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/33"},
            ("db", "upgrade"),
            ["GATEHOUSE_TRUSTED_PROXIES", "/33"],
        ),
        ({"GATEHOUSE_ACCESS_TOKEN_TTL": "-5"}, ("mail", "deliver"), ["GATEHOUSE_ACCESS_TOKEN_TTL"]),
    ],
    ids=[
        "unknown-driver",
        "sync-driver",
        "no-url",
        "unreachable-upgrade",
        "unreachable-list",
        "log-level",
        "cidr",
        "negative-ttl",
    ],
)
def test_a_bad_setting_is_one_line_naming_it_whichever_command_meets_it(
    migrated: Cli, env: dict[str, str], args: tuple[str, ...], words: list[str]
) -> None:
    result = migrated(*args, **env)

    line = assert_one_line_error(result, *words)
    assert "hunter2secret" not in line
    assert result.stdout == ""


def test_an_unknown_variable_is_a_warning_naming_the_closest_known_one(migrated: Cli) -> None:
    result = migrated("users", "list", "--json", GATEHOUSE_RATE_LIMT_PER_MINUTE="5")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    [warning] = result.stderr.splitlines()
    assert warning.startswith("gatehouse: warning: GATEHOUSE_RATE_LIMT_PER_MINUTE")
    assert "GATEHOUSE_RATE_LIMIT_PER_MINUTE" in warning


@pytest.mark.parametrize(
    ("env", "args", "words"),
    [
        ({"GATEHOUSE_REDIS_URL": "http://:hunter2secret@x"}, ("serve",), ["GATEHOUSE_REDIS_URL", "redis://"]),
        (
            {"GATEHOUSE_REDIS_URL": "redis://:hunter2secret@127.0.0.1:99999/0"},
            ("users", "list"),
            ["GATEHOUSE_REDIS_URL", "port"],
        ),
        ({"GATEHOUSE_DATABASE_URL": "sqlite+aiosqlite:///:memory:"}, ("db", "upgrade"), ["in-memory"]),
        (
            {"GATEHOUSE_REFRESH_TOKEN_TTL": "99999999999999999999"},
            ("serve",),
            ["GATEHOUSE_REFRESH_TOKEN_TTL", "10 years"],
        ),
    ],
    ids=["redis-scheme-serve", "redis-port-list", "sqlite-memory-upgrade", "huge-ttl-serve"],
)
def test_a_setting_that_would_fail_later_is_one_line_at_start(
    migrated: Cli, env: dict[str, str], args: tuple[str, ...], words: list[str]
) -> None:
    """Each of these once passed the start and failed later with a traceback (or a 500 per log-in)."""
    if args == ("serve",):  # were the setting missed, serve would run: on a port of its own
        args = ("serve", "--port", str(free_port()))
    result = migrated(*args, GATEHOUSE_JWT_SECRET=STRONG_SECRET, GATEHOUSE_DATA_KEY=DATA_KEY, **env)

    line = assert_one_line_error(result, *words)
    assert "hunter2secret" not in line


def test_libpq_sslmode_in_a_postgres_url_works_and_an_unknown_parameter_is_one_line(cli: Cli) -> None:
    """`sslmode` is the libpq habit; the local server speaks no TLS, so `disable` is what works."""
    with fresh_postgres_database() as raw:
        url = make_url(raw)
        plain = url.update_query_dict({"sslmode": "disable"}).render_as_string(hide_password=False)
        odd = url.update_query_dict({"sslmode": "disable", "application_name": "gh"})

        upgraded = cli("db", "upgrade", GATEHOUSE_DATABASE_URL=plain)
        assert upgraded.returncode == 0, upgraded.stderr
        listed = cli("users", "list", "--json", GATEHOUSE_DATABASE_URL=plain)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        refused = cli("users", "list", GATEHOUSE_DATABASE_URL=odd.render_as_string(hide_password=False))
        assert_one_line_error(refused, "GATEHOUSE_DATABASE_URL", "application_name")
