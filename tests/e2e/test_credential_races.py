"""Races on one account through the real stack, on SQLite and PostgreSQL (CONTRACT §5):

- of simultaneous wrong guesses at most GATEHOUSE_LOGIN_MAX_FAILURES are checked (in-process
  counters and Redis);
- a log-in checked against the old password opens no session that outlives a password change
  or reset answered before it finished;
- a deactivation ends every session, and a reactivation revives none.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.adapters.redis_counters import RedisCounters
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.domain.values import RawPassword
from tests.databases import ENGINES
from tests.e2e.account_support import last_token
from tests.e2e.conftest import PASSWORD, Account, Api, database_url, start, test_settings
from tests.e2e.mfa_support import MY_MFA, assert_unauthenticated, enrol, mfa_enabled, mfa_token, second_step
from tests.services import redis_prefix, redis_url  # noqa: F401 - fixtures

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
NEW_PASSWORD = "Brand-New-Secret-7"
RACING_PASSWORD = "Racing-Secret-9x"
MAX_FAILURES = 5
GUESSES = 30


class HoldingHasher(PasswordHasher):
    """The real argon2 hasher, except that a verification asked to wait does so until released:
    the test decides what commits while a log-in is between its password check and its session."""

    def __init__(self, inner: Argon2PasswordHasher) -> None:
        self.inner = inner
        self.hold_next = False
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def hash(self, password: RawPassword) -> str:
        return await self.inner.hash(password)

    async def verify(self, password_hash: str, password: RawPassword) -> bool:
        result = await self.inner.verify(password_hash, password)
        if self.hold_next:
            self.hold_next = False
            self.holding.set()
            await self.release.wait()
        return result

    async def verify_dummy(self, password: RawPassword) -> None:
        await self.inner.verify_dummy(password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)


@pytest.fixture(params=ENGINES)
async def held(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Api, HoldingHasher]]:
    async with database_url(request.param, tmp_path) as url:
        container, app = await start(test_settings(tmp_path, database_url=url))
        hasher = HoldingHasher(container.hasher())
        container.hasher.override(providers.Object(hasher))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(client, container), hasher
        finally:
            await container.database().dispose()
            hasher.inner.close()


async def _held_log_in(api: Api, hasher: HoldingHasher, account: Account) -> "asyncio.Task[httpx.Response]":
    """A log-in with the right password, paused just after its password was checked."""
    hasher.hold_next = True
    task = asyncio.create_task(api.client.post(TOKEN, json={"email": account.email, "password": PASSWORD}))
    await asyncio.wait_for(hasher.holding.wait(), 10)
    return task


async def _works(api: Api, answer: httpx.Response) -> list[str]:
    """Which of the answer's credentials still work (none may, after the change)."""
    if answer.status_code != 200:
        return []
    body = answer.json()
    working = []
    me = await api.client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    if me.status_code != 401:
        working.append(f"access token ({me.status_code})")
    refreshed = await api.client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    if refreshed.status_code != 401:
        working.append(f"refresh token ({refreshed.status_code})")
    return working


async def test_a_log_in_checked_before_a_password_change_yields_no_working_token(
    held: tuple[Api, HoldingHasher],
) -> None:
    api, hasher = held
    me = await api.create_account()
    racing = await _held_log_in(api, hasher, me)
    changed = await api.client.post(
        f"{ME}/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=me.auth
    )
    assert changed.status_code == 204, changed.text
    hasher.release.set()
    answer = await racing
    assert answer.status_code in (200, 401), answer.text
    assert await _works(api, answer) == []


async def test_a_log_in_checked_before_a_password_reset_yields_no_working_token(
    held: tuple[Api, HoldingHasher],
) -> None:
    api, hasher = held
    me = await api.create_account()
    token = await _reset_token(api, me)
    racing = await _held_log_in(api, hasher, me)
    confirmed = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text
    hasher.release.set()
    answer = await racing
    assert answer.status_code in (200, 401), answer.text
    assert await _works(api, answer) == []


async def test_a_password_change_checked_before_another_change_is_refused_and_the_other_stands(
    held: tuple[Api, HoldingHasher],
) -> None:
    """Two changes on one session: the one paused after its current-password check finds, once
    released, that the other's commit ended the session (401); the other's password is the one."""
    api, hasher = held
    me = await api.create_account()
    hasher.hold_next = True
    racing = asyncio.create_task(
        api.client.post(
            f"{ME}/password",
            json={"current_password": PASSWORD, "new_password": RACING_PASSWORD},
            headers=me.auth,
        )
    )
    await asyncio.wait_for(hasher.holding.wait(), 10)
    changed = await api.client.post(
        f"{ME}/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=me.auth
    )
    assert changed.status_code == 204, changed.text
    hasher.release.set()
    answer = await racing
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "AuthenticationError"
    assert answer.headers["www-authenticate"] == "Bearer"
    right = await api.client.post(TOKEN, json={"email": me.email, "password": NEW_PASSWORD})
    assert right.status_code == 200, right.text
    lost = await api.client.post(TOKEN, json={"email": me.email, "password": RACING_PASSWORD})
    assert lost.status_code == 401, lost.text


async def test_turning_mfa_off_checked_before_a_password_change_is_refused_and_mfa_stays_on(
    held: tuple[Api, HoldingHasher],
) -> None:
    """Turning MFA off, paused after its password check while a password change commits on the
    same account, finds its session ended (401): MFA stays on and the recovery code unspent."""
    api, hasher = held
    me = await api.create_account()
    enrolled = await enrol(api, me)
    hasher.hold_next = True
    racing = asyncio.create_task(
        api.client.request(
            "DELETE", MY_MFA, json={"password": PASSWORD, "code": enrolled.recovery_codes[0]}, headers=me.auth
        )
    )
    await asyncio.wait_for(hasher.holding.wait(), 10)
    changed = await api.client.post(
        f"{ME}/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=me.auth
    )
    assert changed.status_code == 204, changed.text
    hasher.release.set()
    assert_unauthenticated(await racing)
    assert await mfa_enabled(api, me)
    token = await mfa_token(api, me.email, NEW_PASSWORD)
    second = await second_step(api, token, enrolled.recovery_codes[0])
    assert second.status_code == 200, second.text  # the code was not spent by the refused request


async def _reset_token(api: Api, account: Account) -> str:
    """Ask for a reset and read the token from the mail the outbox holds."""
    answer = await api.client.post("/api/v1/auth/password-reset", json={"email": account.email})
    assert answer.status_code == 202, answer.text
    return await last_token(api, account.email, "reset-password")


async def test_a_log_in_checked_before_a_deactivation_yields_no_working_token(
    held: tuple[Api, HoldingHasher],
) -> None:
    api, hasher = held
    admin, me = await api.admin(), await api.create_account()
    racing = await _held_log_in(api, hasher, me)
    off = await api.client.patch(f"/api/v1/users/{me.id}", json={"is_active": False}, headers=admin.auth)
    assert off.status_code == 200, off.text
    hasher.release.set()
    answer = await racing
    assert answer.status_code == 403, answer.text
    on = await api.client.patch(f"/api/v1/users/{me.id}", json={"is_active": True}, headers=admin.auth)
    assert on.status_code == 200, on.text
    assert await _works(api, answer) == []


async def test_logins_during_a_password_change_leave_no_working_token(api: Api) -> None:
    """Unpaused: log-ins with the old password spread over the change; every token they got dies."""
    me = await api.create_account()

    async def log_in_after(delay: float) -> httpx.Response:
        await asyncio.sleep(delay)
        return await api.client.post(TOKEN, json={"email": me.email, "password": PASSWORD})

    logins = [asyncio.create_task(log_in_after(n * 0.002)) for n in range(12)]
    changed = await api.client.post(
        f"{ME}/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=me.auth
    )
    assert changed.status_code == 204, changed.text
    answers = await asyncio.gather(*logins)
    after_change = [a for a in answers if a.status_code == 200]
    for answer in after_change:
        assert await _works(api, answer) == []
    assert all(a.status_code in (200, 401, 429) for a in answers), [a.text for a in answers]


async def test_deactivation_ends_every_session_and_reactivation_revives_none(api: Api) -> None:
    admin, me = await api.admin(), await api.create_account()
    second_access, second_refresh = await api.login(me.email, PASSWORD)
    off = await api.client.patch(f"/api/v1/users/{me.id}", json={"is_active": False}, headers=admin.auth)
    assert off.status_code == 200, off.text
    on = await api.client.patch(f"/api/v1/users/{me.id}", json={"is_active": True}, headers=admin.auth)
    assert on.status_code == 200, on.text
    for access in (me.token, second_access):
        assert (await api.client.get(ME, headers={"Authorization": f"Bearer {access}"})).status_code == 401
    for refresh in (me.refresh_token, second_refresh):
        assert (await api.client.post(REFRESH, json={"refresh_token": refresh})).status_code == 401
    fresh_access, _ = await api.login(me.email, PASSWORD)  # the account itself works again
    assert (await api.client.get(ME, headers={"Authorization": f"Bearer {fresh_access}"})).status_code == 200


@pytest.fixture(params=["in-process", "redis"])
async def throttled(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_url: str,  # noqa: F811
    redis_prefix: str,  # noqa: F811
) -> AsyncIterator[Api]:
    """The app on SQLite with the default throttle, its counters in this process or in Redis."""
    settings = test_settings(tmp_path, login_max_failures=MAX_FAILURES)
    container, app = await start(settings)
    shared: RedisCounters | None = None
    if request.param == "redis":
        shared = RedisCounters(redis_url, prefix=redis_prefix)
        container.counters.override(providers.Object(shared))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, container)
    finally:
        if shared is not None:
            await shared.close()
        await container.database().dispose()
        container.hasher().close()


def _guess(api: Api, identifier: str, password: str, form: bool) -> Any:
    if form:
        return api.client.post(TOKEN, data={"username": identifier, "password": password})
    return api.client.post(TOKEN, json={"email": identifier, "password": password})


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
async def test_simultaneous_wrong_guesses_check_at_most_the_allowed_number(
    throttled: Api, form: bool
) -> None:
    api = throttled
    me = await api.create_account()
    answers = await asyncio.gather(*(_guess(api, me.email, f"Wrong-Guess-{n}", form) for n in range(GUESSES)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) <= MAX_FAILURES, codes
    assert codes.count(401) + codes.count(429) == GUESSES, codes
    assert all("retry-after" in a.headers for a in answers if a.status_code == 429)
    # The window is used up: the right password is refused too, until it passes.
    assert (await _guess(api, me.email, PASSWORD, form)).status_code == 429


async def test_a_right_password_among_simultaneous_guesses_lets_no_extra_guess_through(
    throttled: Api,
) -> None:
    """Wherever the right password stands among 30 simultaneous guesses (before, at or after the
    limit), at most GATEHOUSE_LOGIN_MAX_FAILURES guesses are checked and answered 401."""
    api = throttled
    for right_at in (0, 1, 3, 4, 20):
        me = await api.create_account()
        passwords = [f"Wrong-Guess-{n}" for n in range(GUESSES)]
        passwords[right_at] = PASSWORD
        answers = await asyncio.gather(*(_guess(api, me.email, p, right_at % 2 == 1) for p in passwords))
        codes = [a.status_code for a in answers]
        assert codes.count(200) <= 1, (right_at, codes)
        assert codes.count(401) <= MAX_FAILURES, (right_at, codes)
        assert set(codes) <= {200, 401, 429}, (right_at, codes)


async def test_simultaneous_right_passwords_are_never_throttled(throttled: Api) -> None:
    """More simultaneous log-ins than the failure limit, none of them wrong: every one gets 200."""
    api = throttled
    me = await api.create_account()
    answers = await asyncio.gather(
        *(_guess(api, me.email, PASSWORD, n % 2 == 0) for n in range(3 * MAX_FAILURES))
    )
    assert [a.status_code for a in answers] == [200] * (3 * MAX_FAILURES), [a.text for a in answers]
