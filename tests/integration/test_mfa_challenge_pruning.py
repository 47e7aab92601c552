"""Housekeeping of second-step log-in challenges, on memory, SQLite and PostgreSQL alike."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.housekeeping_builders import plant_user
from tests.integration.builders import T0
from tests.integration.housekeeping_support import Store, open_store
from tests.integration.records_support import ALL_BACKENDS

US = timedelta(microseconds=1)
CUTOFF = T0 + timedelta(days=30)
FAR = CUTOFF + timedelta(days=10)


@pytest.fixture(params=ALL_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(request.param, tmp_path) as opened:
        yield opened


async def challenge(
    store: Store, name: str, *, expires_at: datetime = FAR, spent_at: datetime | None = None
) -> None:
    owner = await plant_user(store.new_uow, name.replace("-", "_"), T0)
    async with store.new_uow() as uow:
        await uow.mfa.add_challenge(
            user_id=owner.id,
            fingerprint=name.ljust(64, "0"),
            throttle_key=name,
            now=T0,
            expires_at=expires_at,
        )
        if spent_at is not None:
            found = await uow.mfa.find_challenge(name.ljust(64, "0"))
            assert found is not None
            assert await uow.mfa.attempt_challenge(found.id, spent_at, max_failures=5) == 1
            await uow.mfa.spend_challenge(found.id, spent_at)
        await uow.commit()


async def test_spent_or_expired_challenges_before_the_cutoff_go_and_live_ones_stay(store: Store) -> None:
    await challenge(store, "live")
    await challenge(store, "expires-at-cutoff", expires_at=CUTOFF)
    await challenge(store, "expired", expires_at=CUTOFF - US)
    await challenge(store, "spent", spent_at=CUTOFF - timedelta(days=1))
    await challenge(store, "spent-at-cutoff", expires_at=FAR, spent_at=CUTOFF)

    assert await store.rows.delete_ended_mfa_challenges(ended_before=CUTOFF, limit=100) == 2

    assert await store.count("mfa_challenges") == 3
    async with store.new_uow() as uow:
        for name, kept in (("live", True), ("expired", False), ("spent", False), ("spent-at-cutoff", True)):
            assert (await uow.mfa.find_challenge(name.ljust(64, "0")) is not None) is kept, name
    assert await store.rows.delete_ended_mfa_challenges(ended_before=CUTOFF, limit=100) == 0


async def test_each_call_deletes_at_most_limit_challenges(store: Store) -> None:
    for n in range(5):
        await challenge(store, f"old-{n}", expires_at=T0)
    assert [await store.rows.delete_ended_mfa_challenges(ended_before=CUTOFF, limit=2) for _ in range(4)] == [
        2,
        2,
        1,
        0,
    ]
