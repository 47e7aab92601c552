"""The UnitOfWork and UserRepository contract on memory, SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, timedelta, timezone

import pytest

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.errors import ConflictError, NotFoundError, PreconditionFailedError
from gatehouse.application.ports.users import USER_FIELDS, UserFilter, UserPageQuery
from gatehouse.domain.values import Email, FullName, Role, Username
from tests.integration.builders import (
    T0,
    assert_utc,
    fetch_session,
    fetch_user,
    new_session,
    new_user,
    store_session,
    store_users,
)
from tests.integration.conftest import Backend


async def test_add_assigns_distinct_ids_and_version_1(backend: Backend) -> None:
    ada, bob = await store_users(backend, new_user("Ada_L", full_name="Ada Lovelace"), new_user("bob"))

    assert ada.id != bob.id
    assert (ada.version, bob.version) == (1, 1)
    stored = await fetch_user(backend, ada.id)
    assert stored is not None
    assert (stored.email.value, stored.username.value, stored.version) == ("ada_l@example.com", "Ada_L", 1)
    assert stored.full_name == FullName("Ada Lovelace")
    assert (stored.role, stored.is_active, stored.password_hash) == (Role.USER, True, ada.password_hash)


async def test_timestamps_come_back_timezone_aware_utc_to_the_microsecond(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    session = await store_session(backend, ada)

    stored, stored_session = await fetch_user(backend, ada.id), await fetch_session(backend, session.id)

    assert stored is not None
    assert stored_session is not None
    assert (stored.created_at, stored.updated_at) == (T0, T0)
    assert (stored_session.created_at, stored_session.last_used_at) == (T0, T0)
    assert_utc(stored.created_at, stored.updated_at, stored_session.created_at, stored_session.expires_at)


async def test_get_by_email_and_by_username_in_any_case_find_the_account(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("Ada_L"))

    async with backend.new_uow() as uow:
        assert await uow.users.get(ada.id) == ada
        assert await uow.users.get_by_email(Email("ADA_L@Example.com")) == ada
        assert await uow.users.get_by_username(Username("aDA_l")) == ada
        assert await uow.users.get(ada.id + 1000) is None
        assert await uow.users.get_by_email(Email("nobody@example.com")) is None
        assert await uow.users.get_by_username(Username("nobody")) is None


@pytest.mark.parametrize(
    ("username", "email"),
    [("someone_else", "ada@example.com"), ("ADA", "other@example.com"), ("ada", "ADA@EXAMPLE.COM")],
    ids=["same-email", "username-other-case", "both"],
)
async def test_add_with_a_taken_email_or_username_in_any_case_conflicts(
    backend: Backend, username: str, email: str
) -> None:
    await store_users(backend, new_user("ada", email="ada@example.com"))

    with pytest.raises(ConflictError):
        async with backend.new_uow() as uow:
            await uow.users.add(new_user(username, email=email))

    page = await backend.queries.page(UserPageQuery(UserFilter()))
    assert [u.username.value for u in page.items] == ["ada"]


@pytest.mark.parametrize("field", ["email", "username"])
async def test_update_to_a_taken_email_or_username_conflicts(backend: Backend, field: str) -> None:
    _, bob = await store_users(backend, new_user("ada"), new_user("bob"))
    taken = {"email": Email("ADA@example.com"), "username": Username("ADA")}[field]

    with pytest.raises(ConflictError):
        async with backend.new_uow() as uow:
            await uow.users.update(bob.changed(T0, **{field: taken}), fields=(field,), expected_versions=None)

    stored = await fetch_user(backend, bob.id)
    assert stored is not None
    assert (stored.email.value, stored.username.value, stored.version) == ("bob@example.com", "bob", 1)


@pytest.mark.parametrize("expected_versions", [None, [1], [0, 1, 7]])
async def test_update_stores_the_change_and_bumps_the_version(
    backend: Backend, expected_versions: list[int] | None
) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    later = T0 + timedelta(hours=1)
    edited = ada.changed(later, username=Username("Ada_Byron"), role=Role.MODERATOR, is_active=False)

    async with backend.new_uow() as uow:
        saved = await uow.users.update(edited, fields=USER_FIELDS, expected_versions=expected_versions)
        await uow.commit()

    stored = await fetch_user(backend, ada.id)
    assert saved.version == 2
    assert stored is not None
    assert (stored.username.value, stored.role, stored.is_active) == ("Ada_Byron", Role.MODERATOR, False)
    assert (stored.version, stored.updated_at, stored.created_at) == (2, later, T0)
    assert_utc(stored.updated_at)


async def test_update_may_change_the_case_of_ones_own_username(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    async with backend.new_uow() as uow:
        await uow.users.update(
            ada.changed(T0, username=Username("ADA")), fields=("username",), expected_versions=[1]
        )
        await uow.commit()

    stored = await fetch_user(backend, ada.id)
    assert stored is not None
    assert (stored.username.value, stored.version) == ("ADA", 2)


async def test_sql_stores_normalise_other_offsets_to_utc(database: Database) -> None:
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))
    async with SqlAlchemyUnitOfWork(database) as uow:
        ada = await uow.users.add(replace(new_user("ada"), created_at=plus_two))
        await uow.commit()

    stored = await SqlAlchemyUserQueries(database).get(ada.id)

    assert stored is not None
    assert (stored.created_at, stored.created_at.tzinfo) == (T0, UTC)


async def test_update_with_a_stale_expected_version_fails_and_changes_nothing(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    async with backend.new_uow() as uow:
        with pytest.raises(PreconditionFailedError):
            await uow.users.update(
                ada.changed(T0, username=Username("eve")), fields=("username",), expected_versions=[2, 3]
            )
        await uow.commit()

    stored = await fetch_user(backend, ada.id)
    assert stored is not None
    assert (stored.username.value, stored.version) == ("ada", 1)


async def test_delete_with_a_stale_expected_version_fails_and_keeps_the_account(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    async with backend.new_uow() as uow:
        with pytest.raises(PreconditionFailedError):
            await uow.users.delete(ada.id, expected_versions=[2])
        await uow.commit()

    assert await fetch_user(backend, ada.id) is not None


@pytest.mark.parametrize("operation", ["update", "delete"])
async def test_update_or_delete_of_a_missing_id_is_not_found(backend: Backend, operation: str) -> None:
    [ada] = await store_users(backend, new_user("ada"))
    ghost = replace(ada, id=ada.id + 1000)

    async with backend.new_uow() as uow:
        if operation == "update":
            with pytest.raises(NotFoundError):
                await uow.users.update(ghost, fields=USER_FIELDS, expected_versions=None)
        else:
            with pytest.raises(NotFoundError):
                await uow.users.delete(ghost.id, expected_versions=[1])


async def test_delete_removes_the_account_its_sessions_and_their_refresh_tokens(backend: Backend) -> None:
    ada, bob = await store_users(backend, new_user("ada"), new_user("bob"))
    ada_session, bob_session = await store_session(backend, ada), await store_session(backend, bob)
    async with backend.new_uow() as uow:
        await uow.sessions.add_refresh_token(ada_session.id, "fp-ada", T0 + timedelta(days=1))
        await uow.users.delete(ada.id, expected_versions=None)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.users.get(ada.id) is None
        assert await uow.sessions.get(ada_session.id) is None
        assert await uow.sessions.find_refresh_token("fp-ada") is None
        assert await uow.sessions.spend_refresh_token("fp-ada", T0) is False
        assert await uow.sessions.get(bob_session.id) == bob_session
        assert await uow.users.get(bob.id) == bob


async def test_set_password_hash_keeps_the_version_and_updated_at(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    async with backend.new_uow() as uow:
        await uow.users.set_password_hash(ada.id, "$argon2id$new")
        await uow.commit()

    stored = await fetch_user(backend, ada.id)
    assert stored is not None
    assert (stored.password_hash, stored.version, stored.updated_at) == ("$argon2id$new", 1, T0)


async def test_count_active_admins_counts_only_admins_that_are_active(backend: Backend) -> None:
    await store_users(
        backend,
        new_user("admin_1", role=Role.ADMIN),
        new_user("admin_2", role=Role.ADMIN),
        new_user("admin_off", role=Role.ADMIN, is_active=False),
        new_user("moderator", role=Role.MODERATOR),
        new_user("plain_user"),
    )

    async with backend.new_uow() as uow:
        assert await uow.users.count_active_admins() == 2


async def _add_then_fail(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        await uow.users.add(new_user("dave"))
        raise RuntimeError("boom")


async def test_a_unit_of_work_left_without_commit_persists_nothing(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    async with backend.new_uow() as uow:
        carol = await uow.users.add(new_user("carol"))
        await uow.users.update(
            ada.changed(T0, username=Username("ada_new")), fields=("username",), expected_versions=None
        )
        session = await uow.sessions.add(new_session(ada))
        assert await uow.users.get(carol.id) is not None  # the transaction sees its own writes
    with pytest.raises(RuntimeError, match="boom"):
        await _add_then_fail(backend)

    async with backend.new_uow() as uow:
        assert await uow.users.get_by_username(Username("carol")) is None
        assert await uow.users.get_by_username(Username("dave")) is None
        assert await uow.sessions.get(session.id) is None
        stored = await uow.users.get(ada.id)
    assert stored is not None
    assert (stored.username.value, stored.version) == ("ada", 1)
    assert await backend.queries.get(carol.id) is None
