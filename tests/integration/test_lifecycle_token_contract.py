"""The AccountTokenRepository contract (one-time tokens) on memory, SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gatehouse.application.ports.credentials import AccountToken, TokenPurpose
from tests.integration.builders import T0, assert_utc, new_user, store_users
from tests.integration.lifecycle_support import LIFECYCLE_BACKENDS, Lifecycle, fingerprint, open_lifecycle

VERIFY, RESET = TokenPurpose.VERIFY_EMAIL, TokenPurpose.RESET_PASSWORD
TTL = timedelta(hours=24)
LATER = T0 + timedelta(minutes=5, microseconds=3)


@pytest.fixture(params=LIFECYCLE_BACKENDS)
async def lifecycle(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Lifecycle]:
    async with open_lifecycle(request.param, tmp_path) as opened:
        yield opened


async def issue(
    lifecycle: Lifecycle,
    name: str,
    user_id: int | None,
    *,
    purpose: TokenPurpose = VERIFY,
    email: str = "ada@example.com",
    now: datetime = T0,
) -> None:
    """Issue the token `fingerprint(name)` in a committed unit of work of its own."""
    async with lifecycle.new_uow() as uow:
        await uow.account_tokens.issue(
            purpose=purpose,
            user_id=user_id,
            email=email,
            fingerprint=fingerprint(name),
            now=now,
            expires_at=now + TTL,
        )
        await uow.commit()


async def find(lifecycle: Lifecycle, name: str, purpose: TokenPurpose = VERIFY) -> AccountToken | None:
    """The committed token, read in a unit of work of its own."""
    async with lifecycle.new_uow() as uow:
        return await uow.account_tokens.find(purpose, fingerprint(name))


async def found(lifecycle: Lifecycle, name: str, purpose: TokenPurpose = VERIFY) -> AccountToken:
    token = await find(lifecycle, name, purpose)
    assert token is not None, name
    return token


async def test_an_issued_token_is_found_by_purpose_and_fingerprint_and_reads_back_whole(
    lifecycle: Lifecycle,
) -> None:
    [ada] = await store_users(lifecycle.backend, new_user("ada"))

    await issue(lifecycle, "t1", ada.id, email="ada@example.com")

    token = await found(lifecycle, "t1")
    assert token == AccountToken(
        id=token.id,
        purpose=VERIFY,
        user_id=ada.id,
        email="ada@example.com",
        created_at=T0,
        expires_at=T0 + TTL,
        used_at=None,
    )
    assert_utc(token.created_at, token.expires_at)
    assert token.is_usable(LATER)
    assert not token.is_usable(T0 + TTL)


async def test_a_token_is_not_found_under_another_purpose_or_fingerprint(lifecycle: Lifecycle) -> None:
    [ada] = await store_users(lifecycle.backend, new_user("ada"))
    await issue(lifecycle, "t1", ada.id, purpose=VERIFY)

    assert await find(lifecycle, "t1", RESET) is None
    assert await find(lifecycle, "t2", VERIFY) is None
    assert await find(lifecycle, "t1", VERIFY) is not None


async def test_issuing_a_new_token_kills_the_users_older_unused_tokens_of_that_purpose_only(
    lifecycle: Lifecycle,
) -> None:
    ada, bob = await store_users(lifecycle.backend, new_user("ada"), new_user("bob"))
    await issue(lifecycle, "ada-verify-1", ada.id)
    await issue(lifecycle, "ada-reset", ada.id, purpose=RESET)
    await issue(lifecycle, "bob-verify", bob.id, email="bob@example.com")

    await issue(lifecycle, "ada-verify-2", ada.id, now=LATER)

    first, second = await found(lifecycle, "ada-verify-1"), await found(lifecycle, "ada-verify-2")
    assert first.used_at == LATER
    assert not first.is_usable(LATER)
    assert second.used_at is None
    assert second.is_usable(LATER)
    assert (await found(lifecycle, "ada-reset", RESET)).used_at is None
    assert (await found(lifecycle, "bob-verify")).used_at is None


async def test_a_token_for_no_user_is_stored_but_never_usable_and_kills_no_other_token(
    lifecycle: Lifecycle,
) -> None:
    [ada] = await store_users(lifecycle.backend, new_user("ada"))
    await issue(lifecycle, "ada-reset", ada.id, purpose=RESET)
    await issue(lifecycle, "nobody-1", None, purpose=RESET, email="nobody@example.com")

    await issue(lifecycle, "nobody-2", None, purpose=RESET, email="nobody@example.com", now=LATER)

    for name in ("nobody-1", "nobody-2"):
        token = await found(lifecycle, name, RESET)
        assert (token.user_id, token.email) == (None, "nobody@example.com")
        assert not token.is_usable(LATER)
    assert (await found(lifecycle, "nobody-2", RESET)).used_at is None
    ada_token = await found(lifecycle, "ada-reset", RESET)
    assert ada_token.used_at is None
    assert ada_token.is_usable(LATER)


async def test_a_token_is_spent_exactly_once(lifecycle: Lifecycle) -> None:
    [ada] = await store_users(lifecycle.backend, new_user("ada"))
    await issue(lifecycle, "t1", ada.id)
    token = await found(lifecycle, "t1")

    async with lifecycle.new_uow() as uow:
        assert await uow.account_tokens.spend(token.id, LATER) is True
        await uow.commit()
    async with lifecycle.new_uow() as uow:
        assert await uow.account_tokens.spend(token.id, LATER + timedelta(seconds=1)) is False
        assert await uow.account_tokens.spend(token.id + 1000, LATER) is False
        await uow.commit()

    spent = await found(lifecycle, "t1")
    assert spent.used_at == LATER
    assert_utc(spent.used_at)
    assert not spent.is_usable(LATER)


async def test_the_second_spend_in_one_unit_of_work_loses(lifecycle: Lifecycle) -> None:
    [ada] = await store_users(lifecycle.backend, new_user("ada"))
    await issue(lifecycle, "t1", ada.id)
    token = await found(lifecycle, "t1")

    async with lifecycle.new_uow() as uow:
        assert await uow.account_tokens.spend(token.id, LATER) is True
        assert await uow.account_tokens.spend(token.id, LATER) is False
        await uow.commit()


async def test_revoke_all_kills_the_users_live_tokens_of_that_purpose_only(lifecycle: Lifecycle) -> None:
    ada, bob = await store_users(lifecycle.backend, new_user("ada"), new_user("bob"))
    minute = T0 + timedelta(minutes=1)
    await issue(lifecycle, "ada-reset-1", ada.id, purpose=RESET)
    await issue(lifecycle, "ada-reset-2", ada.id, purpose=RESET, now=minute)  # kills the first
    await issue(lifecycle, "ada-verify", ada.id, purpose=VERIFY)
    await issue(lifecycle, "bob-reset", bob.id, purpose=RESET, email="bob@example.com")

    async with lifecycle.new_uow() as uow:
        await uow.account_tokens.revoke_all(RESET, ada.id, LATER)
        await uow.commit()

    assert (await found(lifecycle, "ada-reset-1", RESET)).used_at == minute  # a dead token keeps its date
    assert (await found(lifecycle, "ada-reset-2", RESET)).used_at == LATER
    assert (await found(lifecycle, "ada-verify", VERIFY)).used_at is None
    assert (await found(lifecycle, "bob-reset", RESET)).used_at is None


async def test_a_token_issued_in_a_unit_of_work_that_is_not_committed_is_not_stored(
    lifecycle: Lifecycle,
) -> None:
    [ada] = await store_users(lifecycle.backend, new_user("ada"))
    await issue(lifecycle, "kept", ada.id)

    async with lifecycle.new_uow() as uow:
        await uow.account_tokens.issue(
            purpose=VERIFY,
            user_id=ada.id,
            email="ada@example.com",
            fingerprint=fingerprint("dropped"),
            now=LATER,
            expires_at=LATER + TTL,
        )
        assert await uow.account_tokens.find(VERIFY, fingerprint("dropped")) is not None
        # Leaving without commit: the new token and the older one's death both roll back.

    assert await find(lifecycle, "dropped") is None
    assert await lifecycle.token_rows(fingerprint("dropped")) == 0
    assert (await found(lifecycle, "kept")).used_at is None


async def test_deleting_an_account_takes_its_tokens_with_it(lifecycle: Lifecycle) -> None:
    ada, bob = await store_users(lifecycle.backend, new_user("ada"), new_user("bob"))
    await issue(lifecycle, "ada-verify", ada.id)
    await issue(lifecycle, "ada-reset", ada.id, purpose=RESET)
    await issue(lifecycle, "bob-verify", bob.id, email="bob@example.com")
    await issue(lifecycle, "nobody", None, email="nobody@example.com")

    async with lifecycle.new_uow() as uow:
        await uow.users.delete(ada.id, expected_versions=None)
        await uow.commit()

    assert await find(lifecycle, "ada-verify") is None
    assert await find(lifecycle, "ada-reset", RESET) is None
    if lifecycle.name != "memory":  # memory keeps the entries and hides them; a database drops the rows
        assert await lifecycle.token_rows(fingerprint("ada-verify")) == 0
        assert await lifecycle.token_rows(fingerprint("ada-reset")) == 0
    assert (await found(lifecycle, "bob-verify")).user_id == bob.id
    assert (await found(lifecycle, "nobody")).user_id is None
