"""The Housekeeping and TaskLease contracts on memory, SQLite and PostgreSQL alike."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gatehouse.application.ports.api_tokens import NewApiToken
from gatehouse.application.ports.credentials import NewAccountToken, TokenPurpose
from gatehouse.domain.scopes import Scope
from gatehouse.domain.user import Session, User
from tests.housekeeping_builders import (
    fingerprint,
    idempotency_stored,
    plant_account_token,
    plant_idempotency_record,
    plant_mail,
    plant_sent_mail,
    plant_session,
    plant_user,
    session_stored,
)
from tests.integration.builders import T0
from tests.integration.housekeeping_support import Store, open_store
from tests.integration.records_support import ALL_BACKENDS

US = timedelta(microseconds=1)
DAY = timedelta(days=1)
CUTOFF = T0 + timedelta(days=30)  # each test deletes what ended (or began) before this moment
FAR = CUTOFF + timedelta(days=10)
MANY = 100


@pytest.fixture(params=ALL_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(request.param, tmp_path) as opened:
        yield opened


async def session_of(
    store: Store,
    user: User,
    *,
    expires_at: datetime = FAR,
    revoked_at: datetime | None = None,
    tokens: tuple[str, ...] = (),
) -> Session:
    return await plant_session(
        store.new_uow,
        user,
        created_at=T0,
        expires_at=expires_at,
        revoked_at=revoked_at,
        refresh_tokens=tokens,
    )


async def test_sessions_that_ended_before_the_cutoff_go_with_their_refresh_tokens(store: Store) -> None:
    ada = await plant_user(store.new_uow, "ada", T0)
    # A live session keeps every token, even a spent one whose own expiry has passed: presenting
    # that one again is how a replayed stolen token is caught.
    live = await session_of(store, ada, tokens=("live-spent", "live-new"))
    async with store.new_uow() as uow:
        await uow.sessions.add_refresh_token(live.id, fingerprint("live-expired"), CUTOFF - DAY)
        await uow.commit()
    expired = await session_of(store, ada, expires_at=CUTOFF - US, tokens=("expired-1", "expired-2"))
    expires_at_cutoff = await session_of(store, ada, expires_at=CUTOFF, tokens=("at-cutoff",))
    revoked = await session_of(store, ada, revoked_at=CUTOFF - US, tokens=("revoked",))
    revoked_at_cutoff = await session_of(store, ada, revoked_at=CUTOFF)

    tokens = await store.rows.delete_refresh_tokens_of_ended_sessions(ended_before=CUTOFF, limit=MANY)
    sessions = await store.rows.delete_ended_sessions(ended_before=CUTOFF, limit=MANY)

    assert (tokens, sessions) == (3, 2)
    assert await store.count("refresh_tokens") == 4  # live's three, at-cutoff's one
    assert await store.count("sessions") == 3
    assert not await session_stored(store.new_uow, expired.id)
    assert not await session_stored(store.new_uow, revoked.id)
    for kept in (live, expires_at_cutoff, revoked_at_cutoff):
        assert await session_stored(store.new_uow, kept.id)
    async with store.new_uow() as uow:
        for name in ("live-spent", "live-new", "live-expired"):
            assert await uow.sessions.find_refresh_token(fingerprint(name)) is not None, name
    assert await store.rows.delete_refresh_tokens_of_ended_sessions(ended_before=CUTOFF, limit=MANY) == 0
    assert await store.rows.delete_ended_sessions(ended_before=CUTOFF, limit=MANY) == 0


async def test_a_deleted_session_takes_any_refresh_token_left_with_it(store: Store) -> None:
    ada = await plant_user(store.new_uow, "ada", T0)
    await session_of(store, ada, revoked_at=T0, tokens=("left-1", "left-2"))

    assert await store.rows.delete_ended_sessions(ended_before=CUTOFF, limit=MANY) == 1

    assert await store.count("refresh_tokens") == 0
    assert await store.rows.delete_refresh_tokens_of_ended_sessions(ended_before=CUTOFF, limit=MANY) == 0


async def test_one_time_tokens_spent_or_expired_before_the_cutoff_go(store: Store) -> None:
    async def token(name: str, *, expires_at: datetime = FAR, spent_at: datetime | None = None) -> None:
        # An account each: issuing a token kills its account's older ones of the same purpose.
        owner = await plant_user(store.new_uow, name.replace("-", "_"), T0)
        await plant_account_token(
            store.new_uow, name, user_id=owner.id, created_at=T0, expires_at=expires_at, spent_at=spent_at
        )

    await token("unspent")
    await token("expires-at-cutoff", expires_at=CUTOFF)
    await token("expired", expires_at=CUTOFF - US)
    await token("spent", spent_at=CUTOFF - US)
    await token("spent-at-cutoff", spent_at=CUTOFF)
    # A token made for an unknown address (no user) is never usable; it goes once expired.
    await plant_account_token(store.new_uow, "decoy", user_id=None, created_at=T0, expires_at=CUTOFF - US)

    assert await store.rows.delete_spent_account_tokens(ended_before=CUTOFF, limit=MANY) == 3

    kept = {"unspent", "expires-at-cutoff", "spent-at-cutoff"}
    for name in ("unspent", "expires-at-cutoff", "expired", "spent", "spent-at-cutoff", "decoy"):
        assert await store.token_stored(name) is (name in kept), name
    assert await store.rows.delete_spent_account_tokens(ended_before=CUTOFF, limit=MANY) == 0


async def test_a_token_killed_by_a_newer_one_goes_once_the_kill_is_older_than_the_cutoff(
    store: Store,
) -> None:
    ada = await plant_user(store.new_uow, "ada", T0)
    for name, at in (("older", T0), ("newer", CUTOFF - US), ("newest", CUTOFF)):
        # One email and purpose: each issue kills the one before, at its own moment.
        async with store.new_uow() as uow:
            await uow.account_tokens.issue(
                NewAccountToken(
                    purpose=TokenPurpose.VERIFY_EMAIL,
                    user_id=ada.id,
                    email="ada@example.com",
                    fingerprint=fingerprint(name),
                    created_at=at,
                    expires_at=FAR,
                )
            )
            await uow.commit()

    assert await store.rows.delete_spent_account_tokens(ended_before=CUTOFF, limit=MANY) == 1

    assert not await store.token_stored("older")
    assert await store.token_stored("newer")  # killed at the cutoff itself
    assert await store.token_stored("newest")


async def test_idempotency_records_begun_before_the_cutoff_go_answered_or_not(store: Store) -> None:
    await plant_idempotency_record(store.new_uow, "answered", CUTOFF - US, answered=True)
    await plant_idempotency_record(store.new_uow, "abandoned", CUTOFF - DAY, answered=False)
    await plant_idempotency_record(store.new_uow, "at-cutoff", CUTOFF, answered=True)
    await plant_idempotency_record(store.new_uow, "running", CUTOFF + US, answered=False)

    assert await store.rows.delete_idempotency_records(started_before=CUTOFF, limit=MANY) == 2

    for key, kept in (("answered", False), ("abandoned", False), ("at-cutoff", True), ("running", True)):
        assert await idempotency_stored(store.new_uow, key) is kept, key


async def test_sent_dropped_and_suppressed_mail_goes_a_pending_mail_never(store: Store) -> None:
    queue = store.queue
    await plant_sent_mail(store.new_uow, queue, "sent", CUTOFF - US)
    await plant_sent_mail(store.new_uow, queue, "sent-at-cutoff", CUTOFF)
    await plant_mail(store.new_uow, "suppressed", CUTOFF - US, deliver=False)
    await plant_mail(store.new_uow, "suppressed-at-cutoff", CUTOFF, deliver=False)
    await plant_mail(store.new_uow, "dead", T0)
    assert await queue.give_up(created_before=T0 + US, now=T0 + DAY) == 1
    # Pending mails queued long before the cutoff: leased to a sender, waiting to retry, due.
    for subject in ("leased", "retrying"):
        await plant_mail(store.new_uow, subject, T0 + DAY)
    claimed = {m.message.subject: m for m in await queue.claim(now=T0 + DAY, lease_until=FAR, limit=2)}
    assert set(claimed) == {"leased", "retrying"}
    await queue.retry_later(claimed["retrying"].id, retry_at=FAR, error="421 busy")
    await plant_mail(store.new_uow, "due", T0 + DAY)

    assert await store.rows.delete_finished_mail(finished_before=CUTOFF, limit=MANY) == 3

    for subject in ("sent", "suppressed", "dead"):
        assert await store.mail_status(subject) is None, subject
    assert await store.mail_status("sent-at-cutoff") == "sent"
    assert await store.mail_status("suppressed-at-cutoff") == "suppressed"
    for subject in ("leased", "retrying", "due"):
        assert await store.mail_status(subject) == "pending", subject
    assert await queue.depth() == 3


@pytest.mark.parametrize("kind", ["sessions", "refresh_tokens", "account_tokens", "idempotency", "mails"])
async def test_each_call_deletes_at_most_limit_rows(store: Store, kind: str) -> None:
    ada = await plant_user(store.new_uow, "ada", T0)
    await session_of(store, ada, revoked_at=T0, tokens=tuple(f"refresh-{n}" for n in range(5)))
    for n in range(5):
        if n:
            await session_of(store, ada, revoked_at=T0)
        await plant_account_token(store.new_uow, f"t{n}", user_id=ada.id, created_at=T0, expires_at=T0)
        await plant_idempotency_record(store.new_uow, f"k{n}", T0, answered=True)
        await plant_mail(store.new_uow, f"m{n}", T0, deliver=False)
    delete: Callable[[], Awaitable[int]] = {
        "sessions": lambda: store.rows.delete_ended_sessions(ended_before=CUTOFF, limit=2),
        "refresh_tokens": lambda: store.rows.delete_refresh_tokens_of_ended_sessions(
            ended_before=CUTOFF, limit=2
        ),
        "account_tokens": lambda: store.rows.delete_spent_account_tokens(ended_before=CUTOFF, limit=2),
        "idempotency": lambda: store.rows.delete_idempotency_records(started_before=CUTOFF, limit=2),
        "mails": lambda: store.rows.delete_finished_mail(finished_before=CUTOFF, limit=2),
    }[kind]

    assert [await delete() for _ in range(4)] == [2, 2, 1, 0]


# --- The lease ------------------------------------------------------------------------------------


async def test_a_lease_is_held_until_its_end_then_free_for_anyone(store: Store) -> None:
    hour = timedelta(hours=1)
    lease = store.lease

    assert await lease.acquire("chore", holder="a", now=T0, until=T0 + hour) is True
    assert await lease.acquire("chore", holder="b", now=T0 + hour - US, until=T0 + 2 * hour) is False
    # Not re-entrant: the holder itself waits for the end too.
    assert await lease.acquire("chore", holder="a", now=T0 + US, until=T0 + 2 * hour) is False
    assert await lease.acquire("other-chore", holder="b", now=T0, until=T0 + hour) is True
    assert await lease.acquire("chore", holder="b", now=T0 + hour, until=T0 + 2 * hour) is True
    assert await lease.acquire("chore", holder="a", now=T0 + hour + US, until=T0 + 3 * hour) is False


async def test_of_two_claimers_racing_for_a_free_lease_exactly_one_wins(store: Store) -> None:
    minute = timedelta(minutes=1)
    async with store.other_lease() as other:
        # Round 0 races to insert the lease's row; later rounds race to take over an ended one.
        for round_ in range(5):
            now = T0 + round_ * minute
            mine, theirs = await asyncio.gather(
                store.lease.acquire("chore", holder="mine", now=now, until=now + minute),
                other.acquire("chore", holder="theirs", now=now, until=now + minute),
            )

            assert sorted([mine, theirs]) == [False, True], round_


async def test_api_tokens_revoked_or_expired_before_their_cutoffs_go(store: Store) -> None:
    owner = await plant_user(store.new_uow, "owner", T0)
    expired_cutoff = CUTOFF - 10 * DAY
    plan = {
        "live": (FAR, None),
        "revoked": (FAR, CUTOFF - US),
        "revoked-at-cutoff": (FAR, CUTOFF),
        "expired": (expired_cutoff - US, None),
        "expired-at-cutoff": (expired_cutoff, None),
        "expired-recently": (CUTOFF - US, None),  # past the revocation cutoff, not the expiry one
    }
    async with store.new_uow() as uow:
        for name, (expires_at, revoked_at) in plan.items():
            token = await uow.api_tokens.add(
                NewApiToken(
                    user_id=owner.id,
                    name=name,
                    scopes=frozenset({Scope.PROFILE_READ}),
                    digest=fingerprint(name),
                    created_at=T0,
                    expires_at=expires_at,
                )
            )
            if revoked_at is not None:
                await uow.api_tokens.revoke(token.id, revoked_at)
        await uow.commit()

    deleted = await store.rows.delete_ended_api_tokens(
        revoked_before=CUTOFF, expired_before=expired_cutoff, limit=MANY
    )

    assert deleted == 2
    async with store.new_uow() as uow:
        left = {t.name for tid in range(1, len(plan) + 1) if (t := await uow.api_tokens.get(tid))}
    assert left == {"live", "revoked-at-cutoff", "expired-at-cutoff", "expired-recently"}
    assert await store.count("api_tokens") == 4
    assert (
        await store.rows.delete_ended_api_tokens(
            revoked_before=CUTOFF, expired_before=expired_cutoff, limit=1
        )
        == 0
    )
