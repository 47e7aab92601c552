"""Argon2PasswordHasher against real argon2-cffi: the hash format and the bounded pool."""

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator

import pytest
from argon2 import Type, extract_parameters

from gatehouse.adapters.argon2_hasher import (
    HASHING_NICENESS,
    Argon2Parameters,
    Argon2PasswordHasher,
    current_thread_niceness,
    lower_thread_priority,
)
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


def own_niceness() -> int:
    """The nice value of the calling thread (Linux keeps one per thread)."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


# The main thread's nice value when this module is collected, before any test has hashed: the
# event loop runs on it, and no hasher may ever change it (a worker that re-niced the process
# instead of itself would have done so in the tests above by the time these run).
LOOP_NICENESS = own_niceness()


async def test_hashing_threads_run_at_a_raised_nice_value_by_default() -> None:
    hasher = Argon2PasswordHasher(TEST_ARGON2, workers=1)
    try:
        niceness = await hasher.thread_niceness()
    finally:
        hasher.close()

    assert own_niceness() == LOOP_NICENESS
    assert niceness == min(19, LOOP_NICENESS + HASHING_NICENESS)


async def test_hashing_threads_keep_the_loop_priority_with_niceness_zero() -> None:
    hasher = Argon2PasswordHasher(TEST_ARGON2, workers=1, niceness=0)
    try:
        niceness = await hasher.thread_niceness()
    finally:
        hasher.close()

    assert niceness == own_niceness() == LOOP_NICENESS


@pytest.mark.parametrize("niceness", [3, 100])
async def test_the_niceness_is_added_to_the_loop_priority_and_capped_at_19(niceness: int) -> None:
    hasher = Argon2PasswordHasher(TEST_ARGON2, workers=1, niceness=niceness)
    try:
        lowered = await hasher.thread_niceness()
    finally:
        hasher.close()

    assert lowered == min(19, LOOP_NICENESS + niceness)


async def test_the_event_loop_thread_keeps_its_priority_while_and_after_hashing() -> None:
    assert threading.current_thread() is threading.main_thread()  # the loop's thread, as in the app
    hasher = Argon2PasswordHasher(TEST_ARGON2, workers=2)
    try:
        encoded = await hasher.hash(PASSWORD)
        verified = await asyncio.gather(*(hasher.verify(encoded, PASSWORD) for _ in range(4)))
        while_open = own_niceness()
    finally:
        hasher.close()

    assert verified == [True] * 4
    assert while_open == LOOP_NICENESS
    assert own_niceness() == LOOP_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == LOOP_NICENESS  # the process as `ps` shows it


async def test_hashing_and_verifying_work_in_the_lowered_threads() -> None:
    hasher = Argon2PasswordHasher(TEST_ARGON2, workers=2)
    try:
        encoded = await hasher.hash(PASSWORD)

        assert encoded.startswith("$argon2id$")
        assert await hasher.verify(encoded, PASSWORD) is True
        assert await hasher.verify(encoded, RawPassword("correct-horse-9")) is False
        assert hasher.needs_rehash(encoded) is False
    finally:
        hasher.close()


def test_lower_thread_priority_changes_the_calling_thread_alone() -> None:
    seen: list[tuple[int, int]] = []

    def lowered() -> None:
        start = current_thread_niceness()
        lower_thread_priority(4)
        seen.append((start, current_thread_niceness()))

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()

    assert seen == [(LOOP_NICENESS, min(19, LOOP_NICENESS + 4))]
    assert own_niceness() == LOOP_NICENESS


async def test_the_container_gives_the_hashing_threads_the_configured_niceness() -> None:
    """GATEHOUSE_HASH_NICENESS reaches the threads through the composition root (0: the loop's own)."""
    from gatehouse.entrypoints.container import Container
    from gatehouse.entrypoints.settings import Settings

    for niceness in (0, 7):
        container = Container(settings=Settings(hash_niceness=niceness, hash_workers=1))
        hasher = container.hasher()
        try:
            assert await hasher.thread_niceness() == min(19, LOOP_NICENESS + niceness)
        finally:
            hasher.close()
