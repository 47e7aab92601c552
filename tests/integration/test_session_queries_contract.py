"""`SessionQueries.list_live` (the session list of §10) on memory, SQLite and PostgreSQL."""

from datetime import datetime, timedelta

from gatehouse.application.ports.sessions import NewSession
from gatehouse.domain.user import Session, User
from tests.integration.builders import T0, assert_utc, new_user, store_users
from tests.integration.conftest import Backend

H = timedelta(hours=1)
NOW = T0 + 10 * H


async def start(backend: Backend, user: User, created_at: datetime, *, lives: timedelta = 14 * H) -> Session:
    async with backend.new_uow() as uow:
        session = await uow.sessions.add(
            NewSession(user.id, created_at, created_at + lives, ip="198.51.100.4", user_agent="curl/8")
        )
        await uow.commit()
    return session


async def live(backend: Backend, user: User, now: datetime = NOW) -> list[Session]:
    assert backend.sessions is not None
    return list(await backend.sessions.list_live(user.id, now))


async def test_list_live_gives_only_that_users_live_sessions_newest_first(backend: Backend) -> None:
    ada, bob = await store_users(backend, new_user("ada"), new_user("bob"))
    middle = await start(backend, ada, T0 + H)
    newest = await start(backend, ada, T0 + 3 * H)
    oldest = await start(backend, ada, T0)
    revoked = await start(backend, ada, T0 + 4 * H)
    await start(backend, ada, T0 + 5 * H, lives=5 * H)  # expires exactly at NOW: no longer live
    await start(backend, ada, T0 - 5 * H, lives=H)  # long expired
    bobs = await start(backend, bob, T0 + 2 * H)
    async with backend.new_uow() as uow:
        await uow.sessions.revoke(revoked.id, T0 + 5 * H)
        await uow.commit()

    sessions = await live(backend, ada)

    assert [s.id for s in sessions] == [newest.id, middle.id, oldest.id]
    first = sessions[0]
    assert (first.user_id, first.created_at, first.last_used_at, first.expires_at) == (
        ada.id,
        T0 + 3 * H,
        T0 + 3 * H,
        T0 + 17 * H,
    )
    assert (first.ip, first.user_agent, first.revoked_at) == ("198.51.100.4", "curl/8", None)
    assert_utc(first.created_at, first.last_used_at, first.expires_at)
    assert [s.id for s in await live(backend, bob)] == [bobs.id]


async def test_list_live_breaks_ties_of_creation_time_newest_id_first(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    sessions = [await start(backend, ada, T0) for _ in range(3)]

    assert [s.id for s in await live(backend, ada)] == [s.id for s in reversed(sessions)]


async def test_list_live_of_a_user_with_no_live_session_is_empty(backend: Backend) -> None:
    ada, bob = await store_users(backend, new_user("ada"), new_user("bob"))
    await start(backend, bob, T0)
    await start(backend, ada, T0)
    async with backend.new_uow() as uow:
        await uow.sessions.revoke_all(ada.id, T0 + H)
        await uow.commit()

    assert await live(backend, ada) == []
    assert await live(backend, ada, T0) == []  # revoked is revoked, whenever one asks
    assert len(await live(backend, bob)) == 1
