"""§1 the CLI: `db upgrade` and the `users` chores, run as the installed command in a fresh directory."""

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.cli_support import Cli, assert_one_line_error

SIGN_UP = ("--email", "ada@example.com", "--username", "ada_l", "--password", "Secret123")
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
    created = cli.create("ada@example.com", "ada_l")

    again = cli("db", "upgrade")

    assert again.returncode == 0, again.stderr
    assert [user["id"] for user in cli.users()] == [created["id"]]


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

    assert cli("db", "upgrade", **url).returncode == 0
    assert cli("users", "create", *SIGN_UP, **url).returncode == 0

    assert (cli.cwd / "data" / "own.db").is_file()
    assert not cli.database.exists()


@pytest.mark.parametrize("raw", ["9223372036854775808", "²", "-1"])
@pytest.mark.parametrize(
    "args",
    [("users", "set-role", "{id}", "user"), ("users", "deactivate", "{id}"), ("audit", "list", "--user", "{id}")],
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
