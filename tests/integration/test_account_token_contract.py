"""The AccountTokenRepository contract (one-time tokens) on memory, SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gatehouse.application.ports.credentials import AccountToken, NewAccountToken, TokenPurpose
from tests.integration.builders import T0, assert_utc, new_user, store_users
from tests.integration.records_support import ALL_BACKENDS, Records, fingerprint, open_records

VERIFY, RESET = TokenPurpose.VERIFY_EMAIL, TokenPurpose.RESET_PASSWORD
TTL = timedelta(hours=24)
LATER = T0 + timedelta(minutes=5, microseconds=3)


@pytest.fixture(params=ALL_BACKENDS)
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Records]:
    async with open_records(request.param, tmp_path) as opened:
        yield opened


async def issue(
    records: Records,
    name: str,
    user_id: int | None,
    *,
    purpose: TokenPurpose = VERIFY,
    email: str = "ada@example.com",
    now: datetime = T0,
) -> None:
    """Issue the token `fingerprint(name)` in a committed unit of work of its own."""
    async with records.new_uow() as uow:
        await uow.account_tokens.issue(
            NewAccountToken(
                purpose=purpose,
                user_id=user_id,
                email=email,
                fingerprint=fingerprint(name),
                created_at=now,
                expires_at=now + TTL,
            )
        )
        await uow.commit()


async def find(records: Records, name: str, purpose: TokenPurpose = VERIFY) -> AccountToken | None:
    """The committed token, read in a unit of work of its own."""
    async with records.new_uow() as uow:
        return await uow.account_tokens.find(purpose, fingerprint(name))


async def found(records: Records, name: str, purpose: TokenPurpose = VERIFY) -> AccountToken:
    token = await find(records, name, purpose)
    assert token is not None, name
    return token


async def test_an_issued_token_is_found_by_purpose_and_fingerprint_and_reads_back_whole(
    records: Records,
) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))

    await issue(records, "t1", ada.id, email="ada@example.com")

    token = await found(records, "t1")
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


async def test_a_token_is_not_found_under_another_purpose_or_fingerprint(records: Records) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))
    await issue(records, "t1", ada.id, purpose=VERIFY)

    assert await find(records, "t1", RESET) is None
    assert await find(records, "t2", VERIFY) is None
    assert await find(records, "t1", VERIFY) is not None


async def test_issuing_a_new_token_kills_the_users_older_unused_tokens_of_that_purpose_only(
    records: Records,
) -> None:
    ada, bob = await store_users(records.backend, new_user("ada"), new_user("bob"))
    await issue(records, "ada-verify-1", ada.id)
    await issue(records, "ada-reset", ada.id, purpose=RESET)
    await issue(records, "bob-verify", bob.id, email="bob@example.com")

    await issue(records, "ada-verify-2", ada.id, now=LATER)

    first, second = await found(records, "ada-verify-1"), await found(records, "ada-verify-2")
    assert first.used_at == LATER
    assert not first.is_usable(LATER)
    assert second.used_at is None
    assert second.is_usable(LATER)
    assert (await found(records, "ada-reset", RESET)).used_at is None
    assert (await found(records, "bob-verify")).used_at is None


async def test_a_token_for_no_user_is_stored_but_never_usable_and_kills_no_other_token(
    records: Records,
) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))
    await issue(records, "ada-reset", ada.id, purpose=RESET)
    await issue(records, "nobody-1", None, purpose=RESET, email="nobody@example.com")

    await issue(records, "nobody-2", None, purpose=RESET, email="nobody@example.com", now=LATER)

    for name in ("nobody-1", "nobody-2"):
        token = await found(records, name, RESET)
        assert (token.user_id, token.email) == (None, "nobody@example.com")
        assert not token.is_usable(LATER)
    assert (await found(records, "nobody-2", RESET)).used_at is None
    ada_token = await found(records, "ada-reset", RESET)
    assert ada_token.used_at is None
    assert ada_token.is_usable(LATER)


async def test_a_token_is_spent_exactly_once(records: Records) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))
    await issue(records, "t1", ada.id)
    token = await found(records, "t1")

    async with records.new_uow() as uow:
        assert await uow.account_tokens.spend(token.id, LATER) is True
        await uow.commit()
    async with records.new_uow() as uow:
        assert await uow.account_tokens.spend(token.id, LATER + timedelta(seconds=1)) is False
        assert await uow.account_tokens.spend(token.id + 1000, LATER) is False
        await uow.commit()

    spent = await found(records, "t1")
    assert spent.used_at == LATER
    assert_utc(spent.used_at)
    assert not spent.is_usable(LATER)


async def test_the_second_spend_in_one_unit_of_work_loses(records: Records) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))
    await issue(records, "t1", ada.id)
    token = await found(records, "t1")

    async with records.new_uow() as uow:
        assert await uow.account_tokens.spend(token.id, LATER) is True
        assert await uow.account_tokens.spend(token.id, LATER) is False
        await uow.commit()


async def test_revoke_all_kills_the_users_live_tokens_of_that_purpose_only(records: Records) -> None:
    ada, bob = await store_users(records.backend, new_user("ada"), new_user("bob"))
    minute = T0 + timedelta(minutes=1)
    await issue(records, "ada-reset-1", ada.id, purpose=RESET)
    await issue(records, "ada-reset-2", ada.id, purpose=RESET, now=minute)  # kills the first
    await issue(records, "ada-verify", ada.id, purpose=VERIFY)
    await issue(records, "bob-reset", bob.id, purpose=RESET, email="bob@example.com")

    async with records.new_uow() as uow:
        await uow.account_tokens.revoke_all(RESET, ada.id, LATER)
        await uow.commit()

    assert (await found(records, "ada-reset-1", RESET)).used_at == minute  # a dead token keeps its date
    assert (await found(records, "ada-reset-2", RESET)).used_at == LATER
    assert (await found(records, "ada-verify", VERIFY)).used_at is None
    assert (await found(records, "bob-reset", RESET)).used_at is None


async def test_a_token_issued_in_a_unit_of_work_that_is_not_committed_is_not_stored(
    records: Records,
) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))
    await issue(records, "kept", ada.id)

    async with records.new_uow() as uow:
        await uow.account_tokens.issue(
            NewAccountToken(
                purpose=VERIFY,
                user_id=ada.id,
                email="ada@example.com",
                fingerprint=fingerprint("dropped"),
                created_at=LATER,
                expires_at=LATER + TTL,
            )
        )
        assert await uow.account_tokens.find(VERIFY, fingerprint("dropped")) is not None
        # Leaving without commit: the new token and the older one's death both roll back.

    assert await find(records, "dropped") is None
    assert await records.token_rows(fingerprint("dropped")) == 0
    assert (await found(records, "kept")).used_at is None


async def test_deleting_an_account_takes_its_tokens_with_it(records: Records) -> None:
    ada, bob = await store_users(records.backend, new_user("ada"), new_user("bob"))
    await issue(records, "ada-verify", ada.id)
    await issue(records, "ada-reset", ada.id, purpose=RESET)
    await issue(records, "bob-verify", bob.id, email="bob@example.com")
    await issue(records, "nobody", None, email="nobody@example.com")

    async with records.new_uow() as uow:
        await uow.users.delete(ada.id, expected_versions=None)
        await uow.commit()

    assert await find(records, "ada-verify") is None
    assert await find(records, "ada-reset", RESET) is None
    if records.name != "memory":  # memory keeps the entries and hides them; a database drops the rows
        assert await records.token_rows(fingerprint("ada-verify")) == 0
        assert await records.token_rows(fingerprint("ada-reset")) == 0
    assert (await found(records, "bob-verify")).user_id == bob.id
    assert (await found(records, "nobody")).user_id is None
