"""§12: "after 5 wrong codes the mfa_token dies" — also when the wrong codes arrive all at once and the
log-in throttle would allow more (each attempt is counted against the token before its code is checked)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.databases import ENGINES
from tests.e2e.conftest import Api, database_url, start, test_settings
from tests.e2e.mfa_support import enrolled_account, mfa_token, second_step


@pytest.fixture(params=ENGINES)
async def roomy(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on each engine with a throttle far above the token's own limit of 5."""
    async with database_url(request.param, tmp_path) as url:
        container, app = await start(test_settings(tmp_path, database_url=url, login_max_failures=500))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(client, container)
        finally:
            await container.database().dispose()
            container.hasher().close()


@pytest.mark.parametrize("burst", [20, 60])
async def test_simultaneous_wrong_codes_against_one_token_are_at_most_five(roomy: Api, burst: int) -> None:
    enrolled = await enrolled_account(roomy)
    token = await mfa_token(roomy, enrolled.account.email)
    wrong = enrolled.app.wrong_code()

    answers = await asyncio.gather(*(second_step(roomy, token, wrong) for _ in range(burst)))

    assert {a.status_code for a in answers} == {401}
    checked = [a for a in answers if "code is wrong" in a.json()["message"]]
    assert len(checked) == 5, [a.json()["message"] for a in answers]
    right = await second_step(roomy, token, enrolled.recovery_codes[0])
    assert right.status_code == 401  # the token died with its fifth wrong code


@pytest.mark.parametrize("code", ["²²²²²²", "١٢٣٤٥٦", "１２３４５６", "      ", "abc", "12345", "1234567"])
async def test_a_malformed_code_is_a_422_that_counts_nothing(roomy: Api, code: str) -> None:
    enrolled = await enrolled_account(roomy)
    token = await mfa_token(roomy, enrolled.account.email)

    for _ in range(6):  # more than the token's five
        response = await second_step(roomy, token, code)
        assert response.status_code == 422, response.text
        assert response.json()["details"][0]["field"] == "code"

    assert (await second_step(roomy, token, enrolled.recovery_codes[0])).status_code == 200
