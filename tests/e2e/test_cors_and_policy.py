"""§1/§2 CORS (off unless origins are listed, never `*` with credentials) and the NIST password policy."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from gatehouse.entrypoints.common_passwords import load_common_passwords
from tests.e2e.conftest import Api, assert_envelope, start
from tests.e2e.conftest import test_settings as settings_for

APP = "https://app.example"
OTHER = "https://evil.example"
ME = "/api/v1/users/me"
EMAIL = "marguerite.quill@example.com"
USERNAME = "quietfox"


@asynccontextmanager
async def serving(tmp_path: Path, **overrides: Any) -> AsyncIterator[Api]:
    container, app = await start(settings_for(tmp_path, **overrides))
    async with AsyncTestClient(app) as client:
        yield Api(client, container)


async def preflight(api: Api, origin: str) -> httpx.Response:
    return await api.client.options(
        ME,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


def assert_no_cors_grant(response: httpx.Response) -> None:
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


async def test_without_cors_origins_no_response_grants_an_origin(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        answers = [await preflight(api, APP), await api.client.get(ME, headers={"Origin": APP})]

    for response in answers:
        assert_no_cors_grant(response)


async def test_a_listed_origin_is_granted_by_name_never_with_a_wildcard_or_credentials(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, cors_origins=(APP,)) as api:
        pre = await preflight(api, APP)
        actual = await api.client.get(ME, headers={"Origin": APP})

    assert pre.status_code in (200, 204), pre.text
    assert pre.headers["access-control-allow-origin"] == APP
    assert "GET" in pre.headers["access-control-allow-methods"]
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    assert actual.headers["access-control-allow-origin"] == APP
    assert "origin" in actual.headers["vary"].lower()
    for response in (pre, actual):
        assert response.headers.get("access-control-allow-credentials", "").lower() != "true"


async def test_an_unlisted_origin_is_not_granted(tmp_path: Path) -> None:
    async with serving(tmp_path, cors_origins=(APP,)) as api:
        pre = await preflight(api, OTHER)
        actual = await api.client.get(ME, headers={"Origin": OTHER})

    assert_no_cors_grant(pre)
    assert_no_cors_grant(actual)
    assert actual.status_code == 401


async def test_a_refused_preflight_that_is_an_error_has_the_error_envelope(tmp_path: Path) -> None:
    # §2: every error — the framework's included — carries the common envelope.
    async with serving(tmp_path, cors_origins=(APP,)) as api:
        pre = await preflight(api, OTHER)

    # Either the preflight is answered without a grant, or it is an error in the envelope.
    if pre.status_code >= 400:
        assert pre.headers["content-type"].startswith("application/json"), (pre.status_code, pre.text)
        assert_envelope(pre, 400, "BadRequestError")
    else:
        assert pre.status_code in (200, 204)


def common_long_password() -> str:
    """A password of 15+ characters from the bundled list (unrelated to the account's names)."""
    candidates = sorted(p for p in load_common_passwords() if len(p) >= 15 and p.isalpha())
    assert candidates, "the bundled list has long common passwords"
    return candidates[0]


async def sign_up(api: Api, password: str) -> httpx.Response:
    return await api.client.post(
        "/api/v1/users", json={"email": EMAIL, "username": USERNAME, "password": password}
    )


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("tangerine-sky7", id="14-characters"),
        pytest.param(common_long_password(), id="common"),
        pytest.param(common_long_password().upper(), id="common-upper-cased"),
        pytest.param("my quietfox runs far away", id="username"),
        pytest.param("My QuietFox Runs Far Away", id="username-other-case"),
        pytest.param("marguerite.quill loves long walks", id="email-local-part"),
        pytest.param("x" * 129, id="129-characters"),
    ],
)
async def test_the_nist_policy_rejects_short_common_or_guessable_passwords(
    tmp_path: Path, password: str
) -> None:
    async with serving(tmp_path, password_policy="nist") as api:
        response = await sign_up(api, password)

    body = assert_envelope(response, 422, "ValidationError")
    assert [d["field"] for d in body["details"]] == ["password"]
    assert password not in response.text


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "violet lantern!", "ÿ" * 128],
    ids=["passphrase", "15-characters", "128-characters"],
)
async def test_the_nist_policy_accepts_long_passphrases_without_composition_rules(
    tmp_path: Path, password: str
) -> None:
    async with serving(tmp_path, password_policy="nist") as api:
        created = await sign_up(api, password)
        login = await api.client.post("/api/v1/auth/token", json={"email": EMAIL, "password": password})

    assert created.status_code == 201, created.text
    assert login.status_code == 200, login.text


async def test_the_classic_policy_still_demands_composition(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        response = await sign_up(api, "correct horse battery staple")

    body = assert_envelope(response, 422, "ValidationError")
    assert [d["field"] for d in body["details"]] == ["password"]


async def test_the_nist_policy_applies_to_a_password_change(tmp_path: Path) -> None:
    async with serving(tmp_path, password_policy="nist") as api:
        assert (await sign_up(api, "correct horse battery staple")).status_code == 201
        access, _ = await api.login(EMAIL, "correct horse battery staple")
        auth = {"Authorization": f"Bearer {access}"}
        common = await api.client.post(
            "/api/v1/users/me/password",
            json={"current_password": "correct horse battery staple", "new_password": common_long_password()},
            headers=auth,
        )
        fine = await api.client.post(
            "/api/v1/users/me/password",
            json={"current_password": "correct horse battery staple", "new_password": "amber kettles sing"},
            headers=auth,
        )

    body = assert_envelope(common, 422, "ValidationError")
    assert [d["field"] for d in body["details"]] == ["new_password"]
    assert fine.status_code == 204, fine.text
