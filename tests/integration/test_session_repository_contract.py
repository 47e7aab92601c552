"""The SessionRepository contract (sessions, refresh tokens) on memory, SQLite and PostgreSQL."""

from datetime import timedelta

from gatehouse.application.ports.sessions import RefreshRecord
from tests.integration.builders import T0, assert_utc, fetch_session, new_user, store_session, store_users
from tests.integration.conftest import Backend

LATER = T0 + timedelta(minutes=30)


async def test_an_added_session_is_live_and_reads_back_whole(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    session = await store_session(backend, ada, expires_in=timedelta(days=3))

    stored = await fetch_session(backend, session.id)
    assert stored is not None
    assert (stored.id, stored.user_id, stored.ip, stored.user_agent) == (
        session.id,
        ada.id,
        "192.0.2.7",
        "pytest/1",
    )
    assert (stored.created_at, stored.last_used_at, stored.expires_at) == (T0, T0, T0 + timedelta(days=3))
    assert stored.revoked_at is None
    assert stored.is_live(LATER)
    async with backend.new_uow() as uow:
        assert await uow.sessions.get(session.id + 1000) is None


async def test_a_refresh_token_is_found_by_fingerprint_and_spent_only_once(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    session = await store_session(backend, ada)
    expires = T0 + timedelta(days=14)

    async with backend.new_uow() as uow:
        await uow.sessions.add_refresh_token(session.id, "a" * 64, expires)
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.sessions.find_refresh_token("a" * 64) == RefreshRecord(session.id, expires, None)
        assert await uow.sessions.spend_refresh_token("a" * 64, LATER) is True
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.sessions.spend_refresh_token("a" * 64, LATER + timedelta(seconds=1)) is False
        record = await uow.sessions.find_refresh_token("a" * 64)

    assert record == RefreshRecord(session.id, expires, LATER)
    assert_utc(record.expires_at, record.spent_at)


async def test_an_unknown_refresh_token_is_neither_found_nor_spent(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        assert await uow.sessions.find_refresh_token("b" * 64) is None
        assert await uow.sessions.spend_refresh_token("b" * 64, LATER) is False


async def test_touch_moves_last_use_and_expiry(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    session = await store_session(backend, ada)

    async with backend.new_uow() as uow:
        await uow.sessions.touch(session.id, LATER, LATER + timedelta(days=14))
        await uow.commit()

    stored = await fetch_session(backend, session.id)
    assert stored is not None
    assert (stored.created_at, stored.last_used_at, stored.expires_at) == (
        T0,
        LATER,
        LATER + timedelta(days=14),
    )


async def test_revoke_ends_a_session_once(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    session = await store_session(backend, ada)

    async with backend.new_uow() as uow:
        assert await uow.sessions.revoke(session.id, LATER) is True
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.sessions.revoke(session.id, LATER + timedelta(hours=1)) is False
        assert await uow.sessions.revoke(session.id + 1000, LATER) is False
        await uow.commit()

    stored = await fetch_session(backend, session.id)
    assert stored is not None
    assert stored.revoked_at == LATER
    assert not stored.is_live(LATER)


async def test_revoke_all_ends_only_the_live_sessions_of_that_user(backend: Backend) -> None:
    ada, bob = await store_users(backend, new_user("ada"), new_user("bob"))
    ada_sessions = [await store_session(backend, ada) for _ in range(3)]
    bob_session = await store_session(backend, bob)
    async with backend.new_uow() as uow:
        await uow.sessions.revoke(ada_sessions[0].id, T0)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.sessions.revoke_all(ada.id, LATER) == 2
        await uow.commit()

    revoked = [await fetch_session(backend, s.id) for s in ada_sessions]
    assert [s.revoked_at if s else "gone" for s in revoked] == [T0, LATER, LATER]
    untouched = await fetch_session(backend, bob_session.id)
    assert untouched is not None
    assert untouched.revoked_at is None
