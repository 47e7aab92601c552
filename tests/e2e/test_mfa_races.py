"""§12 under concurrency, on SQLite and PostgreSQL: one token and one code open one session, and wrong
codes count toward the log-in throttle of the identifier used at the password step (§5), with the
counters in this process or in Redis."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from gatehouse.adapters.redis_counters import RedisCounters
from tests.e2e.account_support import assert_rate_limited, audit_trail
from tests.e2e.conftest import Api, assert_envelope, database_url, start, test_settings
from tests.e2e.mfa_support import (
    TOTP_CONFIRM,
    Authenticator,
    Enrolled,
    assert_unauthenticated,
    enrolled_account,
    me,
    mfa_token,
    password_step,
    second_step,
    start_enrolment,
)
from tests.services import redis_prefix, redis_url  # noqa: F401 - fixtures

MAX_FAILURES = 5
GUESSES = 30
ROUNDS = 5


@pytest.fixture(
    params=[("sqlite", "in-process"), ("postgres", "in-process"), ("sqlite", "redis"), ("postgres", "redis")],
    ids=lambda p: "-".join(p),
)
async def throttled(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_url: str,  # noqa: F811
    redis_prefix: str,  # noqa: F811
) -> AsyncIterator[Api]:
    """The app with the default throttle, on each engine, its counters in this process or in Redis."""
    engine, counters = request.param
    async with database_url(engine, tmp_path) as url:
        container, app = await start(
            test_settings(tmp_path, database_url=url, login_max_failures=MAX_FAILURES)
        )
        shared: RedisCounters | None = None
        if counters == "redis":
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


async def sessions_opened(api: Api, answers: list[httpx.Response]) -> int:
    """How many answers carry a working pair."""
    working = 0
    for answer in answers:
        if answer.status_code == 200 and (await me(api, answer.json()["access_token"])).status_code == 200:
            working += 1
    return working


async def test_one_token_and_one_totp_code_sent_twice_at_once_open_one_session(api: Api) -> None:
    for _ in range(ROUNDS):
        enrolled = await enrolled_account(api)
        token, code = await mfa_token(api, enrolled.account.email), await enrolled.app.code()

        answers = list(await asyncio.gather(second_step(api, token, code), second_step(api, token, code)))

        assert sorted(a.status_code for a in answers) == [200, 401], [a.text for a in answers]
        assert await sessions_opened(api, answers) == 1


async def test_one_token_and_one_recovery_code_sent_twice_at_once_open_one_session(api: Api) -> None:
    enrolled = await enrolled_account(api)
    for round_ in range(ROUNDS):
        token, code = await mfa_token(api, enrolled.account.email), enrolled.recovery_codes[round_]

        answers = list(await asyncio.gather(second_step(api, token, code), second_step(api, token, code)))

        assert sorted(a.status_code for a in answers) == [200, 401], [a.text for a in answers]
        assert await sessions_opened(api, answers) == 1


@pytest.mark.parametrize("factor", ["totp", "recovery-code"])
async def test_one_code_on_two_tokens_at_once_opens_one_session(api: Api, factor: str) -> None:
    for _ in range(3):
        enrolled = await enrolled_account(api)
        email = enrolled.account.email
        first, second = await mfa_token(api, email), await mfa_token(api, email)
        code = await enrolled.app.code() if factor == "totp" else enrolled.recovery_codes[0]

        answers = list(await asyncio.gather(second_step(api, first, code), second_step(api, second, code)))

        assert sorted(a.status_code for a in answers) == [200, 401], [a.text for a in answers]
        assert await sessions_opened(api, answers) == 1


async def test_two_simultaneous_confirmations_turn_mfa_on_once(api: Api) -> None:
    for _ in range(3):
        account = await api.create_account()
        app = Authenticator((await start_enrolment(api, account))["secret"])
        code = await app.code()

        answers = await asyncio.gather(
            *(api.client.post(TOTP_CONFIRM, json={"code": code}, headers=account.auth) for _ in range(2))
        )

        statuses = sorted(a.status_code for a in answers)
        assert statuses[0] == 200, [a.text for a in answers]
        assert statuses[1] in (400, 409), [a.text for a in answers]
        [winner] = [a for a in answers if a.status_code == 200]
        token = await mfa_token(api, account.email)
        pair = await second_step(api, token, winner.json()["recovery_codes"][0])
        assert pair.status_code == 200, pair.text


async def tokens_for(api: Api, identifier: str, count: int) -> list[str]:
    return [await mfa_token(api, identifier) for _ in range(count)]


async def failures_recorded(api: Api, enrolled: Enrolled) -> int:
    return len(await audit_trail(api, action="auth.mfa_failed", user_id=enrolled.account.id))


async def test_simultaneous_wrong_codes_check_at_most_the_allowed_number(throttled: Api) -> None:
    api = throttled
    enrolled = await enrolled_account(api)
    await api.admin()  # signed in before the burst, to read the audit trail after it
    tokens = await tokens_for(api, enrolled.account.email, GUESSES + 1)
    wrong = enrolled.app.wrong_code()

    answers = await asyncio.gather(*(second_step(api, t, wrong) for t in tokens[:GUESSES]))

    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) <= MAX_FAILURES, codes
    assert codes.count(401) + codes.count(429) == GUESSES, codes
    for answer in answers:
        if answer.status_code == 429:
            assert_rate_limited(answer)
    assert await failures_recorded(api, enrolled) <= MAX_FAILURES
    # The window is used up: the right code on a live token is refused too, as is the password step.
    assert_rate_limited(await second_step(api, tokens[GUESSES], await enrolled.app.code()))
    assert_rate_limited(await password_step(api, enrolled.account.email))


async def test_wrong_codes_spread_over_a_few_tokens_check_at_most_the_allowed_number(throttled: Api) -> None:
    """Six tokens, five wrong codes each, all at once: the throttle, not the tokens, bounds them."""
    api = throttled
    enrolled = await enrolled_account(api)
    await api.admin()
    tokens = await tokens_for(api, enrolled.account.email, 7)
    wrong = enrolled.app.wrong_code()

    answers = await asyncio.gather(*(second_step(api, tokens[n % 6], wrong) for n in range(GUESSES)))

    codes = [a.status_code for a in answers]
    assert set(codes) <= {401, 429}, codes
    assert codes.count(429) >= GUESSES - 2 * MAX_FAILURES, codes  # 401s beyond 5 only for a dead token
    assert await failures_recorded(api, enrolled) <= MAX_FAILURES
    assert_rate_limited(await second_step(api, tokens[6], enrolled.recovery_codes[0]))


async def test_a_right_code_among_simultaneous_wrong_ones_lets_no_extra_guess_through(throttled: Api) -> None:
    api = throttled
    for right_at in (0, 4, 20):
        enrolled = await enrolled_account(api)
        tokens = await tokens_for(api, enrolled.account.email, GUESSES)
        codes = [enrolled.app.wrong_code()] * GUESSES
        codes[right_at] = enrolled.recovery_codes[0]

        answers = await asyncio.gather(*(second_step(api, t, c) for t, c in zip(tokens, codes, strict=True)))

        statuses = [a.status_code for a in answers]
        assert statuses.count(200) <= 1, (right_at, statuses)
        assert statuses.count(401) <= MAX_FAILURES, (right_at, statuses)
        assert set(statuses) <= {200, 401, 429}, (right_at, statuses)


async def test_wrong_codes_count_toward_the_identifier_typed_at_the_password_step(throttled: Api) -> None:
    api = throttled
    enrolled = await enrolled_account(api)
    by_username = await tokens_for(api, enrolled.account.username, 2)

    for _ in range(MAX_FAILURES):
        assert_unauthenticated(await second_step(api, by_username[0], enrolled.app.wrong_code()))

    assert_rate_limited(await second_step(api, by_username[1], enrolled.recovery_codes[0]))
    assert_rate_limited(await password_step(api, enrolled.account.username))
    # The email is another identifier, with its own count.
    body = assert_envelope(await password_step(api, enrolled.account.email), 403, "MfaRequiredError")
    assert (await second_step(api, body["mfa_token"], enrolled.recovery_codes[0])).status_code == 200


async def test_simultaneous_right_codes_on_many_tokens_are_never_throttled(throttled: Api) -> None:
    """More simultaneous second steps than the failure limit, each with its own recovery code."""
    api = throttled
    enrolled = await enrolled_account(api)
    tokens = await tokens_for(api, enrolled.account.email, 10)

    answers = await asyncio.gather(
        *(second_step(api, t, c) for t, c in zip(tokens, enrolled.recovery_codes, strict=True))
    )

    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
