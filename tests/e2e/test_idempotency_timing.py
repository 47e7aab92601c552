"""`Idempotency-Key` over time (CONTRACT §8): api retries, the 24 h lifetime, the 60 s abandonment.

The service's clock is replaced by a `FixedClock` before the first request. Tokens are still checked
against the real clock (the authenticator is built with the app), so moving the clock signs nobody out.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.domain.values import RawPassword
from tests.e2e.conftest import Account, Api, assert_envelope

USERS = "/api/v1/users"
ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}
SIGN_UP = {"email": "ada@example.com", "username": "ada_l", "password": "Secret123"}
DAY = 24 * 60 * 60


def use_clock(api: Api) -> FixedClock:
    clock = FixedClock(datetime.now(UTC))
    api.container.clock.override(providers.Object(clock))
    return clock


def keyed(key: str, account: Account | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key, **(account.auth if account else {})}


async def total(api: Api, path: str) -> int:
    response = await api.client.get(path, headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


# --- Racing retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sign-up", "order"])
async def test_racing_retries_create_one_resource_and_answer_only_201_or_409(api: Api, kind: str) -> None:
    owner = await api.create_account()
    path = USERS if kind == "sign-up" else f"{USERS}/{owner.id}/orders"
    listing = USERS if kind == "sign-up" else path
    body, caller = (SIGN_UP, None) if kind == "sign-up" else (ORDER, owner)
    before = await total(api, listing)

    responses = await asyncio.gather(
        *(api.client.post(path, json=body, headers=keyed("race", caller)) for _ in range(5))
    )

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    assert {r.content for r in created} == {created[0].content}
    assert {r.headers["location"] for r in created} == {created[0].headers["location"]}
    for response in responses:
        if response.status_code == 409:
            assert_envelope(response, 409, "ConflictError")
    assert await total(api, listing) == before + 1
    retry = await api.client.post(path, json=body, headers=keyed("race", caller))
    assert (retry.status_code, retry.content) == (201, created[0].content)


# --- The 24 hour lifetime ------------------------------------------------------------------------


async def test_a_key_replays_for_24_hours_and_then_is_free_again(api: Api) -> None:
    clock = use_clock(api)
    owner, _ = await api.create_account(), await api.admin()  # signed in before the clock moves
    path = f"{USERS}/{owner.id}/orders"
    first = await api.client.post(path, json=ORDER, headers=keyed("day", owner))
    assert first.status_code == 201, first.text

    clock.advance(DAY - 1)
    within = await api.client.post(path, json=ORDER, headers=keyed("day", owner))
    clock.advance(2)
    after = await api.client.post(path, json=ORDER, headers=keyed("day", owner))
    again = await api.client.post(path, json=ORDER, headers=keyed("day", owner))

    assert (within.status_code, within.content) == (201, first.content)
    assert after.status_code == 201, after.text
    assert after.json()["id"] != first.json()["id"]
    assert (again.status_code, again.content) == (201, after.content)
    assert await total(api, path) == 2


async def test_after_24_hours_the_key_may_carry_another_request(api: Api) -> None:
    clock = use_clock(api)
    owner, _ = await api.create_account(), await api.admin()  # signed in before the clock moves
    path = f"{USERS}/{owner.id}/orders"
    assert (await api.client.post(path, json=ORDER, headers=keyed("day", owner))).status_code == 201
    other = {**ORDER, "currency": "USD"}

    clock.advance(DAY - 1)
    within = await api.client.post(path, json=other, headers=keyed("day", owner))
    clock.advance(2)
    after = await api.client.post(path, json=other, headers=keyed("day", owner))

    assert_envelope(within, 422, "ValidationError")
    assert after.status_code == 201, after.text
    assert after.json()["currency"] == "USD"


# --- The 60 second abandonment -------------------------------------------------------------------


class GatedHasher:
    """The first hash waits at a gate: a first request that is still running, or whose process died."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.calls = 0

    async def hash(self, password: RawPassword) -> str:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            await self.gate.wait()
        return await self.inner.hash(password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_key_whose_first_request_never_finished_is_409_for_60_seconds_then_free(api: Api) -> None:
    clock = use_clock(api)
    await api.admin()
    hasher = GatedHasher(api.container.hasher())
    api.container.hasher.override(providers.Object(hasher))
    try:
        stuck = asyncio.create_task(api.client.post(USERS, json=SIGN_UP, headers=keyed("k")))
        await hasher.entered.wait()

        running = await api.client.post(USERS, json=SIGN_UP, headers=keyed("k"))
        clock.advance(59)
        still = await api.client.post(USERS, json=SIGN_UP, headers=keyed("k"))
        clock.advance(2)
        freed = await api.client.post(USERS, json=SIGN_UP, headers=keyed("k"))
        replay = await api.client.post(USERS, json=SIGN_UP, headers=keyed("k"))
        hasher.gate.set()
        late = await stuck
        after_late = await api.client.post(USERS, json=SIGN_UP, headers=keyed("k"))
    finally:
        hasher.gate.set()
        api.container.hasher.reset_last_overriding()

    assert_envelope(running, 409, "ConflictError")
    assert_envelope(still, 409, "ConflictError")
    assert freed.status_code == 201, freed.text
    assert (replay.status_code, replay.content) == (201, freed.content)
    assert_envelope(late, 409, "ConflictError")  # it finally ran, and found the email taken
    assert (after_late.status_code, after_late.content) == (201, freed.content)
    assert await total(api, USERS) == 2
