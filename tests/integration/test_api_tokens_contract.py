"""ApiTokenRepository and ApiTokenQueries (CONTRACT §13) on memory, SQLite and PostgreSQL; the read
side is the class the app uses per engine (one-hop on SQLite and asyncpg) and the portable one."""

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.api_tokens import ApiToken, ApiTokenQueries, NewApiToken
from gatehouse.domain.scopes import ALL_SCOPES, Scope
from gatehouse.domain.user import User
from gatehouse.entrypoints.builders import user_queries_for
from tests.databases import ENGINES
from tests.integration.builders import T0, assert_utc, new_user, store_users
from tests.integration.conftest import Backend, open_database

H = timedelta(hours=1)
NOW = T0 + 10 * H
PLUS_TWO = timezone(timedelta(hours=2))


@dataclass(frozen=True)
class Side:
    """A backend's units of work, and the API-token read side the app would use on it."""

    backend: Backend
    tokens: ApiTokenQueries


def read_side(db: Database, kind: str) -> ApiTokenQueries:
    queries = user_queries_for(db) if kind == "app" else SqlAlchemyUserQueries(db)
    assert isinstance(queries, SqlAlchemyUserQueries)  # every SQL read side answers for tokens
    return queries


@pytest.fixture(params=["memory", *ENGINES, *(f"{e}-portable" for e in ENGINES)])
async def side(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Side]:
    if request.param == "memory":
        memory = InMemoryDatabase()
        queries = InMemoryUserQueries(memory)
        yield Side(Backend("memory", lambda: InMemoryUnitOfWork(memory), queries), queries)
        return
    engine, _, portable = request.param.partition("-")
    async with open_database(engine, tmp_path, migrated=True) as db:
        tokens = read_side(db, "portable" if portable else "app")
        yield Side(Backend(engine, lambda: SqlAlchemyUnitOfWork(db), SqlAlchemyUserQueries(db)), tokens)


def new_token(
    user: User,
    name: str = "ci",
    *,
    at: datetime = T0,
    lives: timedelta = 20 * H,
    scopes: frozenset[Scope] = frozenset({Scope.PROFILE_READ}),
) -> NewApiToken:
    """A token whose digest is that of `<user id>:<name>`."""
    return NewApiToken(
        user_id=user.id,
        name=name,
        scopes=scopes,
        digest=digest_of(f"{user.id}:{name}"),
        created_at=at,
        expires_at=at + lives,
    )


def elsewhere(side: Side, moment: datetime) -> datetime:
    """`moment` with a +02:00 offset for the SQL stores, which must give it back in UTC; the
    in-memory twin keeps what it is given, so it gets UTC."""
    return moment if side.backend.name == "memory" else moment.astimezone(PLUS_TWO)


def digest_of(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


async def add(side: Side, *news: NewApiToken) -> list[ApiToken]:
    async with side.backend.new_uow() as uow:
        added = [await uow.api_tokens.add(new) for new in news]
        await uow.commit()
    return added


async def get(side: Side, token_id: int) -> ApiToken | None:
    async with side.backend.new_uow() as uow:
        return await uow.api_tokens.get(token_id)


async def test_add_and_get_round_trip_every_field_in_utc(side: Side) -> None:
    [ada] = await store_users(side.backend, new_user("ada"))
    at = elsewhere(side, T0)
    [token] = await add(side, new_token(ada, "deploy", at=at, scopes=ALL_SCOPES))
    assert token.id >= 1
    assert (token.user_id, token.name, token.scopes) == (ada.id, "deploy", ALL_SCOPES)
    assert (token.created_at, token.expires_at, token.last_used_at, token.revoked_at) == (
        T0,
        T0 + 20 * H,
        None,
        None,
    )
    assert_utc(token.created_at, token.expires_at)
    stored = await get(side, token.id)
    assert stored == token
    assert stored is not None
    assert_utc(stored.created_at, stored.expires_at)
    assert await get(side, token.id + 100) is None


@pytest.mark.parametrize(
    "scopes", [{s} for s in Scope] + [set(ALL_SCOPES), {Scope.INTROSPECT, Scope.PROFILE_READ}]
)
async def test_scopes_round_trip(side: Side, scopes: set[Scope]) -> None:
    [ada] = await store_users(side.backend, new_user("ada"))
    [token] = await add(side, new_token(ada, scopes=frozenset(scopes)))
    stored = await get(side, token.id)
    assert stored is not None
    assert stored.scopes == scopes
    principal = await side.tokens.find_token_principal(digest_of(f"{ada.id}:ci"), NOW)
    assert principal is not None
    assert principal.token.scopes == scopes


async def test_list_unrevoked_of_one_or_all_oldest_first_with_expired_ones(side: Side) -> None:
    ada, bob = await store_users(side.backend, new_user("ada"), new_user("bob"))
    a1, b1, a2, a3, a4 = await add(
        side, new_token(ada, "a1"), new_token(bob, "b1"), new_token(ada, "a2", lives=H),
        new_token(ada, "a3"), new_token(ada, "a4", at=T0 - 5 * H),
    )  # fmt: skip
    async with side.backend.new_uow() as uow:
        assert await uow.api_tokens.revoke(a3.id, NOW)
        await uow.commit()
    async with side.backend.new_uow() as uow:
        assert [t.id for t in await uow.api_tokens.list_unrevoked(ada.id)] == [a1.id, a2.id, a4.id]
        assert [t.id for t in await uow.api_tokens.list_unrevoked(bob.id)] == [b1.id]
        assert [t.id for t in await uow.api_tokens.list_unrevoked(None)] == [a1.id, b1.id, a2.id, a4.id]
        assert (await uow.api_tokens.list_unrevoked(ada.id))[1] == a2
        assert list(await uow.api_tokens.list_unrevoked(ada.id + bob.id + 1)) == []


async def test_count_live_revoke_once_and_revoke_all(side: Side) -> None:
    ada, bob = await store_users(side.backend, new_user("ada"), new_user("bob"))
    live, ends_now, revoked, other = await add(
        side,
        new_token(ada, "live"),
        new_token(ada, "ends", lives=10 * H),
        new_token(ada, "rev"),
        new_token(bob, "b"),
    )
    async with side.backend.new_uow() as uow:
        assert await uow.api_tokens.count_live(ada.id, NOW - timedelta(microseconds=1)) == 3
        assert await uow.api_tokens.revoke(revoked.id, NOW)
        assert not await uow.api_tokens.revoke(revoked.id, NOW + H)
        assert not await uow.api_tokens.revoke(other.id + 100, NOW)
        assert await uow.api_tokens.count_live(ada.id, NOW) == 1  # `ends` expires exactly at NOW
        await uow.commit()
    stored = await get(side, revoked.id)
    assert stored is not None
    assert stored.revoked_at == NOW
    assert_utc(stored.revoked_at)
    async with side.backend.new_uow() as uow:
        assert await uow.api_tokens.revoke_all(ada.id, NOW + H) == 2  # live and expired, not the revoked
        assert await uow.api_tokens.revoke_all(ada.id, NOW + 2 * H) == 0
        assert await uow.api_tokens.count_live(ada.id, T0) == 0
        assert await uow.api_tokens.count_live(bob.id, NOW) == 1
        await uow.commit()
    async with side.backend.new_uow() as uow:
        revoked_ats = {t.id: t.revoked_at for t in await uow.api_tokens.list_unrevoked(None)}
        assert revoked_ats == {other.id: None}
        ended = [await uow.api_tokens.get(t.id) for t in (live, ends_now, revoked)]
    assert [t.revoked_at if t else None for t in ended] == [NOW + H, NOW + H, NOW]


async def test_a_rolled_back_revocation_leaves_the_token(side: Side) -> None:
    [ada] = await store_users(side.backend, new_user("ada"))
    [token] = await add(side, new_token(ada))
    async with side.backend.new_uow() as uow:
        assert await uow.api_tokens.revoke_all(ada.id, NOW) == 1
    assert (await get(side, token.id)) == token


async def test_tokens_go_with_their_owner(side: Side) -> None:
    ada, bob = await store_users(side.backend, new_user("ada"), new_user("bob"))
    mine, theirs = await add(side, new_token(ada), new_token(bob))
    async with side.backend.new_uow() as uow:
        await uow.users.delete(ada.id, expected_versions=None)
        await uow.commit()
    assert await get(side, mine.id) is None
    async with side.backend.new_uow() as uow:
        assert [t.id for t in await uow.api_tokens.list_unrevoked(None)] == [theirs.id]
        assert not await uow.api_tokens.revoke(mine.id, NOW)
    assert await side.tokens.find_token_principal(digest_of(f"{ada.id}:ci"), NOW) is None


async def test_a_digest_is_unique(side: Side) -> None:
    ada, bob = await store_users(side.backend, new_user("ada"), new_user("bob"))
    [first] = await add(side, new_token(ada))
    with pytest.raises(ConflictError):
        await add(side, replace(new_token(bob, "other"), digest=digest_of(f"{ada.id}:ci")))
    async with side.backend.new_uow() as uow:
        assert [t.id for t in await uow.api_tokens.list_unrevoked(None)] == [first.id]


async def test_find_token_principal_finds_only_a_live_token_of_an_active_owner(side: Side) -> None:
    ada, eve = await store_users(side.backend, new_user("ada", full_name="Ada L"), new_user("eve"))
    live, revoked, _ending = await add(
        side, new_token(ada, "live"), new_token(ada, "rev"), new_token(ada, "end", lives=10 * H)
    )
    [eves] = await add(side, new_token(eve))
    async with side.backend.new_uow() as uow:
        await uow.api_tokens.revoke(revoked.id, T0 + H)
        await uow.users.update(replace(eve, is_active=False), fields={"is_active"}, expected_versions=None)
        await uow.commit()
    found = await side.tokens.find_token_principal(digest_of(f"{ada.id}:live"), NOW.astimezone(PLUS_TWO))
    assert found is not None
    assert found.token == live
    assert (found.user.id, found.user.username, found.user.full_name, found.user.is_active) == (
        ada.id, ada.username, ada.full_name, True)  # fmt: skip
    assert (found.user.created_at, found.token.created_at, found.token.expires_at) == (T0, T0, T0 + 20 * H)
    assert_utc(found.user.created_at, found.user.updated_at, found.token.created_at, found.token.expires_at)
    just_before = NOW - timedelta(microseconds=1)
    ending_digest = digest_of(f"{ada.id}:end")
    assert (await side.tokens.find_token_principal(ending_digest, just_before)) is not None
    for digest, at in [
        (ending_digest, NOW),  # expires exactly now
        (digest_of(f"{ada.id}:rev"), NOW),
        (digest_of(f"{eve.id}:ci"), NOW),  # a deactivated owner
        (digest_of("never"), NOW),
        (digest_of(f"{ada.id}:live").upper(), NOW),
    ]:
        assert await side.tokens.find_token_principal(digest, at) is None, digest
    assert eves.revoked_at is None


async def test_mark_token_used_writes_only_when_null_or_older(side: Side) -> None:
    [ada] = await store_users(side.backend, new_user("ada"))
    token, other = await add(side, new_token(ada), new_token(ada, "other"))
    digest = digest_of(f"{ada.id}:ci")

    async def last_used() -> datetime | None:
        principal = await side.tokens.find_token_principal(digest, NOW)
        assert principal is not None
        stored = await get(side, token.id)
        assert stored is not None
        assert stored.last_used_at == principal.token.last_used_at
        if stored.last_used_at is not None:
            assert_utc(stored.last_used_at, principal.token.last_used_at)
        return principal.token.last_used_at

    first = elsewhere(side, NOW)
    await side.tokens.mark_token_used(token.id, first, unless_since=NOW - timedelta(minutes=1))
    assert await last_used() == NOW
    await side.tokens.mark_token_used(token.id, NOW + H, unless_since=NOW)  # used at NOW: not before
    assert await last_used() == NOW
    await side.tokens.mark_token_used(token.id, NOW + H, unless_since=NOW - timedelta(seconds=1))
    assert await last_used() == NOW
    later = NOW + H + timedelta(microseconds=5)
    await side.tokens.mark_token_used(token.id, later, unless_since=NOW + timedelta(microseconds=1))
    assert await last_used() == later
    assert (await get(side, other.id)) == other  # untouched
    await side.tokens.mark_token_used(other.id + 100, NOW, unless_since=NOW)  # unknown: no error


@pytest.mark.parametrize("engine", ENGINES)
async def test_mark_token_used_never_raises_when_its_write_fails(
    engine: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The write is best effort: a database without the table (a failing statement on a healthy
    connection, so nothing is left open behind the test)…"""
    async with open_database(engine, tmp_path, migrated=False) as bare:
        for kind in ("app", "portable"):
            await read_side(bare, kind).mark_token_used(1, NOW, unless_since=NOW - H)
    noted = [r for r in caplog.records if getattr(r, "event", None) == "api_token_use_not_recorded"]
    assert len(noted) == 2  # the failure was met, and swallowed


async def test_mark_token_used_never_raises_when_postgresql_is_unreachable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """…and a PostgreSQL server that does not answer at all."""
    async with open_database("postgres", tmp_path, migrated=True) as db:
        url = db.url.set(port=1).render_as_string(hide_password=False)  # nothing listens there
    gone = Database(url)
    try:
        for kind in ("app", "portable"):
            await read_side(gone, kind).mark_token_used(1, NOW, unless_since=NOW - H)
    finally:
        await gone.dispose()
    noted = [r for r in caplog.records if getattr(r, "event", None) == "api_token_use_not_recorded"]
    assert len(noted) == 2
