"""ClaimIdempotencyKey and ReleaseIdempotencyKey over the in-memory store, on a clock that moves when told."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.use_cases.idempotency import (
    Claim,
    ClaimIdempotencyKey,
    ClaimOutcome,
    ReleaseIdempotencyKey,
)
from gatehouse.domain.errors import InvalidValueError

SCOPE, KEY, FINGERPRINT = "user:7", "key-1", "sha256-of-the-first-body"
RESPONSE = StoredResponse(201, b'{"id": 1}\x00\xff', "/api/v1/users/7/orders/1")
PROCEED = Claim(ClaimOutcome.PROCEED)
MINUTE, DAY = 60, 24 * 60 * 60


def asking(scope: str, key: str, fingerprint: str) -> ClaimIdempotencyKey.Command:
    return ClaimIdempotencyKey.Command(scope=scope, key=key, fingerprint=fingerprint)


@pytest.fixture
def claim(uow: InMemoryUnitOfWork, clock: FixedClock) -> ClaimIdempotencyKey:
    return ClaimIdempotencyKey(uow, clock)


@pytest.fixture
def release(uow: InMemoryUnitOfWork) -> ReleaseIdempotencyKey:
    return ReleaseIdempotencyKey(uow)


async def finish(uow: InMemoryUnitOfWork, response: StoredResponse = RESPONSE) -> None:
    """Store the first answer, as the creating use case does in its own unit of work."""
    async with uow:
        await uow.idempotency.finish(SCOPE, KEY, response)
        await uow.commit()


async def test_the_first_claim_proceeds_and_leaves_a_running_record(
    claim: ClaimIdempotencyKey, database: InMemoryDatabase, clock: FixedClock
) -> None:
    assert await claim.execute(asking(SCOPE, KEY, FINGERPRINT)) == PROCEED

    record = database.state.idempotency[(SCOPE, KEY)]
    assert (record.fingerprint, record.started_at, record.response) == (FINGERPRINT, clock.now(), None)


@pytest.mark.parametrize("elapsed", [0, 1, MINUTE - 1])
async def test_a_second_claim_while_the_first_runs_is_a_conflict(
    claim: ClaimIdempotencyKey, clock: FixedClock, elapsed: int
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))
    clock.advance(elapsed)

    with pytest.raises(ConflictError):
        await claim.execute(asking(SCOPE, KEY, FINGERPRINT))


@pytest.mark.parametrize("elapsed", [MINUTE, MINUTE + 1, DAY - 1])
async def test_a_claim_abandoned_for_60_seconds_may_be_taken_again(
    claim: ClaimIdempotencyKey, database: InMemoryDatabase, clock: FixedClock, elapsed: int
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))
    clock.advance(elapsed)

    assert await claim.execute(asking(SCOPE, KEY, FINGERPRINT)) == PROCEED

    assert database.state.idempotency[(SCOPE, KEY)].started_at == clock.now()
    with pytest.raises(ConflictError):  # the new claim runs now
        await claim.execute(asking(SCOPE, KEY, FINGERPRINT))


async def test_the_same_key_with_another_request_is_invalid_while_running_or_answered(
    claim: ClaimIdempotencyKey, uow: InMemoryUnitOfWork, database: InMemoryDatabase
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))

    with pytest.raises(InvalidValueError) as running:
        await claim.execute(asking(SCOPE, KEY, "another-body"))
    await finish(uow)
    with pytest.raises(InvalidValueError) as answered:
        await claim.execute(asking(SCOPE, KEY, "another-body"))

    assert running.value.field == answered.value.field == "Idempotency-Key"
    assert database.state.idempotency[(SCOPE, KEY)].fingerprint == FINGERPRINT


async def test_the_same_key_with_another_request_is_invalid_even_once_abandoned(
    claim: ClaimIdempotencyKey, clock: FixedClock
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))
    clock.advance(MINUTE * 5)

    with pytest.raises(InvalidValueError):
        await claim.execute(asking(SCOPE, KEY, "another-body"))


@pytest.mark.parametrize("elapsed", [0, MINUTE * 5, DAY - 1])
async def test_an_answered_key_replays_the_stored_response_for_24_hours(
    claim: ClaimIdempotencyKey, uow: InMemoryUnitOfWork, clock: FixedClock, elapsed: int
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))
    await finish(uow)
    clock.advance(elapsed)

    replay = await claim.execute(asking(SCOPE, KEY, FINGERPRINT))

    assert replay.outcome is ClaimOutcome.REPLAY
    assert replay.response is not None
    assert (replay.response.status, replay.response.body, replay.response.location) == (
        201,
        b'{"id": 1}\x00\xff',
        "/api/v1/users/7/orders/1",
    )


@pytest.mark.parametrize("fingerprint", [FINGERPRINT, "another-body"])
async def test_after_24_hours_a_key_is_free_for_any_request(
    claim: ClaimIdempotencyKey,
    uow: InMemoryUnitOfWork,
    database: InMemoryDatabase,
    clock: FixedClock,
    fingerprint: str,
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))
    await finish(uow)
    clock.advance(DAY)

    assert await claim.execute(asking(SCOPE, KEY, fingerprint)) == PROCEED

    record = database.state.idempotency[(SCOPE, KEY)]
    assert (record.fingerprint, record.started_at, record.response) == (fingerprint, clock.now(), None)


async def test_keys_are_scoped_to_the_caller(claim: ClaimIdempotencyKey) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))

    assert await claim.execute(asking("user:8", KEY, "a-different-body")) == PROCEED
    assert await claim.execute(asking("ip:192.0.2.1", KEY, FINGERPRINT)) == PROCEED
    assert await claim.execute(asking(SCOPE, "key-2", FINGERPRINT)) == PROCEED


async def test_release_frees_a_running_key_at_once(
    claim: ClaimIdempotencyKey, release: ReleaseIdempotencyKey, database: InMemoryDatabase
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))

    await release.execute(ReleaseIdempotencyKey.Command(scope=SCOPE, key=KEY))

    assert (SCOPE, KEY) not in database.state.idempotency
    assert await claim.execute(asking(SCOPE, KEY, "another-body")) == PROCEED


async def test_release_never_frees_an_answered_key(
    claim: ClaimIdempotencyKey, release: ReleaseIdempotencyKey, uow: InMemoryUnitOfWork
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))
    await finish(uow)

    await release.execute(ReleaseIdempotencyKey.Command(scope=SCOPE, key=KEY))

    assert await claim.execute(asking(SCOPE, KEY, FINGERPRINT)) == Claim(ClaimOutcome.REPLAY, RESPONSE)


async def test_release_of_an_unknown_key_changes_nothing(
    claim: ClaimIdempotencyKey, release: ReleaseIdempotencyKey, database: InMemoryDatabase
) -> None:
    await claim.execute(asking(SCOPE, KEY, FINGERPRINT))

    await release.execute(ReleaseIdempotencyKey.Command(scope=SCOPE, key="never-claimed"))
    await release.execute(ReleaseIdempotencyKey.Command(scope="user:8", key=KEY))

    assert list(database.state.idempotency) == [(SCOPE, KEY)]
