"""§1/§13 `gatehouse tokens create|list|revoke`, run as installed, on SQLite and PostgreSQL; the
token it prints works over HTTP."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli_support import DATA_KEY, STRONG_SECRET, Cli, assert_one_line_error
from tests.e2e.conftest import start, test_settings
from tests.servers import fresh_postgres_database

TOKEN = re.compile(r"^gat_[A-Za-z0-9]{46}$")
LISTED = {"id", "user_id", "name", "scopes", "created_at", "expires_at", "last_used_at"}


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    tool = Cli(workdir)
    tool.env.update(GATEHOUSE_JWT_SECRET=STRONG_SECRET, GATEHOUSE_DATA_KEY=DATA_KEY)
    if request.param == "sqlite":
        tool.ok("db", "upgrade")
        yield tool
        return
    with fresh_postgres_database() as url:
        tool.env["GATEHOUSE_DATABASE_URL"] = url
        tool.ok("db", "upgrade")
        yield tool


def create_token(cli: Cli, user_id: int, *args: str) -> str:
    result = cli("tokens", "create", "--user", str(user_id), "--name", "deploy bot", *args)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert TOKEN.fullmatch(secret), result.stdout
    assert secret not in result.stderr  # shown once, on stdout only
    return secret


def test_create_prints_the_token_alone_and_list_never_shows_it(cli: Cli) -> None:
    owner = cli.create("ada@example.com", "ada_l")
    secret = create_token(cli, owner["id"], "--scope", "profile:read", "--scope", "orders:read")

    listed = json.loads(cli.ok("tokens", "list", "--json"))
    assert len(listed) == 1
    assert set(listed[0]) == LISTED
    assert listed[0]["user_id"] == owner["id"]
    assert listed[0]["name"] == "deploy bot"
    assert listed[0]["scopes"] == ["profile:read", "orders:read"]
    assert listed[0]["last_used_at"] is None
    table = cli.ok("tokens", "list")
    assert secret not in table
    assert "deploy bot" in table
    assert "profile:read orders:read" in table
    assert secret not in json.dumps(listed)


def test_list_by_user_and_revoke_by_id(cli: Cli) -> None:
    ada = cli.create("ada@example.com", "ada_l")
    bob = cli.create("bob@example.com", "bob_b")
    create_token(cli, ada["id"], "--scope", "profile:read")
    create_token(cli, bob["id"], "--scope", "profile:read", "--expires-in-days", "7")

    only_bob = json.loads(cli.ok("tokens", "list", "--user", str(bob["id"]), "--json"))
    assert [t["user_id"] for t in only_bob] == [bob["id"]]
    revoked = json.loads(cli.ok("tokens", "revoke", str(only_bob[0]["id"])))
    assert revoked["id"] == only_bob[0]["id"]
    assert [t["user_id"] for t in json.loads(cli.ok("tokens", "list", "--json"))] == [ada["id"]]
    assert_one_line_error(cli("tokens", "revoke", str(only_bob[0]["id"])), "not found")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--user", "99", "--scope", "profile:read"), ["99", "not found"]),
        (("--user", "1", "--scope", "profile:read", "--expires-in-days", "0"), ["expires_in_days", "365"]),
        (("--user", "1", "--scope", "profile:read", "--expires-in-days", "366"), ["expires_in_days"]),
        (("--user", "1", "--scope", "everything"), ["--scope", "everything"]),
        (("--user", "1", "--scope", "introspect"), ["introspect", "admin"]),
        (("--user", "x", "--scope", "profile:read"), ["--user"]),
        (("--user", "1"), ["--scope"]),
    ],
)
def test_a_bad_create_is_one_line_and_creates_nothing(
    cli: Cli, args: tuple[str, ...], words: list[str]
) -> None:
    cli.create("ada@example.com", "ada_l")
    result = cli("tokens", "create", "--name", "n", *args)
    assert_one_line_error(result, *words)
    assert result.stdout == ""
    assert json.loads(cli.ok("tokens", "list", "--json")) == []


def test_an_admin_may_be_given_introspect(cli: Cli) -> None:
    admin = cli.create("root@example.com", "root_r", "--role", "admin")
    create_token(cli, admin["id"], "--scope", "introspect")
    assert json.loads(cli.ok("tokens", "list", "--json"))[0]["scopes"] == ["introspect"]


async def test_the_printed_token_calls_the_api_as_its_owner_until_revoked(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    database = f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}"
    cli.env.update(GATEHOUSE_DATABASE_URL=database)
    cli.ok("db", "upgrade")
    owner = cli.create("ada@example.com", "ada_l")
    secret = create_token(cli, owner["id"], "--scope", "profile:read")
    container, app = await start(test_settings(tmp_path, database_url=database))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            bearer = {"Authorization": f"Bearer {secret}"}
            me = await client.get("/api/v1/users/me", headers=bearer)
            assert me.status_code == 200
            assert me.json()["id"] == owner["id"]
            cli.ok("tokens", "revoke", str(json.loads(cli.ok("tokens", "list", "--json"))[0]["id"]))
            assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 401
    finally:
        await container.database().dispose()
        container.hasher().close()
