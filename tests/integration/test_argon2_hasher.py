"""Argon2PasswordHasher against real argon2-cffi: the hash format and the bounded pool."""

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
from argon2 import Type, extract_parameters

from gatehouse.adapters.argon2_hasher import Argon2Parameters, Argon2PasswordHasher
from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.domain.values import RawPassword
from tests.conftest import TEST_ARGON2

PASSWORD = RawPassword("Correct-Horse-9")
# Slow enough that a hash spans many event-loop turns; still well under a second.
SLOWER = Argon2Parameters(time_cost=2, memory_cost_kib=16 * 1024, parallelism=1)


@pytest.fixture
def narrow_hasher() -> Iterator[Argon2PasswordHasher]:
    """One worker and room for one waiting call: capacity two."""
    hasher = Argon2PasswordHasher(SLOWER, workers=1, max_queue=1)
    yield hasher
    hasher.close()


async def test_hash_is_argon2id_with_the_configured_parameters(fast_hasher: Argon2PasswordHasher) -> None:
    encoded = await fast_hasher.hash(PASSWORD)

    parameters = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert parameters.type is Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        TEST_ARGON2.time_cost,
        TEST_ARGON2.memory_cost_kib,
        TEST_ARGON2.parallelism,
    )
    assert PASSWORD.value not in encoded


async def test_two_hashes_of_one_password_differ_by_salt(fast_hasher: Argon2PasswordHasher) -> None:
    assert await fast_hasher.hash(PASSWORD) != await fast_hasher.hash(PASSWORD)


async def test_verify_accepts_the_password_and_refuses_another(fast_hasher: Argon2PasswordHasher) -> None:
    encoded = await fast_hasher.hash(PASSWORD)

    assert await fast_hasher.verify(encoded, PASSWORD) is True
    assert await fast_hasher.verify(encoded, RawPassword("correct-horse-9")) is False


@pytest.mark.parametrize("garbage", ["", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$!!$!!", "$2b$12$abc"])
async def test_verify_of_a_garbage_hash_is_false(fast_hasher: Argon2PasswordHasher, garbage: str) -> None:
    assert await fast_hasher.verify(garbage, PASSWORD) is False


async def test_needs_rehash_only_for_hashes_made_with_other_parameters(
    fast_hasher: Argon2PasswordHasher,
) -> None:
    other = Argon2PasswordHasher(Argon2Parameters(time_cost=2, memory_cost_kib=2048), workers=1)
    try:
        foreign = await other.hash(PASSWORD)
    finally:
        other.close()
    own = await fast_hasher.hash(PASSWORD)

    assert fast_hasher.needs_rehash(foreign) is True
    assert fast_hasher.needs_rehash(own) is False
    assert fast_hasher.needs_rehash("not-a-hash") is True
    assert await fast_hasher.verify(foreign, PASSWORD) is True  # old hashes still log in


async def test_verify_dummy_runs_through_the_pool(narrow_hasher: Argon2PasswordHasher) -> None:
    await narrow_hasher.verify_dummy(PASSWORD)  # completes: no error, no answer to leak

    # It counts against the bound like any verification, so floods of unknown emails are capped too.
    busy = [asyncio.create_task(narrow_hasher.hash(PASSWORD)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(ServiceUnavailableError):
        await narrow_hasher.verify_dummy(PASSWORD)
    await asyncio.gather(*busy)


async def test_queue_depth_counts_calls_waiting_for_a_worker(narrow_hasher: Argon2PasswordHasher) -> None:
    assert narrow_hasher.queue_depth == 0
    running = [asyncio.create_task(narrow_hasher.hash(PASSWORD)) for _ in range(2)]
    await asyncio.sleep(0)  # let both tasks enter the pool

    assert narrow_hasher.queue_depth == 1
    await asyncio.gather(*running)
    assert narrow_hasher.queue_depth == 0


async def test_a_full_pool_refuses_the_extra_calls_at_once_and_serves_the_admitted(
    narrow_hasher: Argon2PasswordHasher,
) -> None:
    outcomes: list[str] = []
    refusals: list[ServiceUnavailableError] = []

    async def attempt() -> None:
        try:
            encoded = await narrow_hasher.hash(PASSWORD)
        except ServiceUnavailableError as exc:
            refusals.append(exc)
            outcomes.append("refused")
        else:
            outcomes.append("hashed" if encoded.startswith("$argon2id$") else encoded)

    await asyncio.gather(*(attempt() for _ in range(10)))

    # Refusals come first: none of them waited for an admitted hash to finish.
    assert outcomes == ["refused"] * 8 + ["hashed"] * 2
    assert all(exc.retry_after >= 1 for exc in refusals)
    assert narrow_hasher.queue_depth == 0
    assert (await narrow_hasher.hash(PASSWORD)).startswith("$argon2id$")  # capacity is given back


async def test_the_event_loop_keeps_running_while_a_hash_is_computed(
    narrow_hasher: Argon2PasswordHasher,
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    counting = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started_at = ticks
    try:
        await narrow_hasher.hash(PASSWORD)
        during = ticks - started_at
    finally:
        counting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counting

    assert during >= 1
