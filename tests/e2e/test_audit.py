"""§10 `GET /audit-events`: who may read it, its shape, filters, limits and cursors (v1, v2, unversioned)."""

import base64
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.account_support import (
    AUDIT,
    AUTH,
    assert_unauthenticated,
    audit_trail,
    caller,
    headers,
    sign_up,
)
from tests.e2e.conftest import Account, Api, assert_envelope

PATHS = ["/api/v1/audit-events", "/api/v2/audit-events", "/audit-events"]
EVENT_FIELDS = {"id", "at", "action", "actor_id", "user_id", "ip", "request_id", "details"}


async def some_history(api: Api) -> Account:
    """A few events of several kinds: sign-ups, log-ins, a failed log-in; returns the admin."""
    admin = await api.admin()
    for n in range(3):
        await sign_up(api, f"history_{n}")
    bad = await api.client.post(
        f"{AUTH}/token", json={"email": "history_0@example.com", "password": "Nope-1234"}
    )
    assert bad.status_code == 401
    await api.create_account()
    return admin


async def page(api: Api, admin: Account, path: str = AUDIT, **params: Any) -> dict[str, Any]:
    response = await api.client.get(path, params=params, headers=admin.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- Who may read it -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_an_admin_reads_the_trail_newest_first(api: Api, path: str) -> None:
    admin = await some_history(api)

    response = await api.client.get(path, headers=admin.auth)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-cache"
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    assert body["next_cursor"] is None
    assert all(set(item) == EVENT_FIELDS for item in body["items"])
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) >= 8
    assert [datetime.fromisoformat(i["at"]) for i in body["items"]] == sorted(
        (datetime.fromisoformat(i["at"]) for i in body["items"]), reverse=True
    )


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("who", "status"), [("user", 403), ("moderator", 403), ("anonymous", 401)])
async def test_no_one_but_an_admin_may_read_the_trail(api: Api, path: str, who: str, status: int) -> None:
    someone = await caller(api, who)

    response = await api.client.get(path, headers=headers(someone))

    if status == 401:
        assert_unauthenticated(response)
    else:
        assert_envelope(response, 403, "PermissionDeniedError")
    assert "items" not in response.json()


async def test_the_unversioned_path_also_answers_as_v2(api: Api) -> None:
    admin = await some_history(api)

    response = await api.client.get("/audit-events", headers={**admin.auth, "X-API-Version": "2"})

    assert response.status_code == 200, response.text
    assert response.headers["x-api-version"] == "2"
    assert set(response.json()) == {"items", "next_cursor"}


# --- Filters -------------------------------------------------------------------------------------


async def test_the_action_filter_keeps_only_that_action(api: Api) -> None:
    admin = await some_history(api)

    items = (await page(api, admin, action="user.created"))["items"]

    assert {i["action"] for i in items} == {"user.created"}
    assert len(items) == 5  # three sign-ups, the admin and the last account
    failed = (await page(api, admin, action="auth.login_failed"))["items"]
    assert [i["action"] for i in failed] == ["auth.login_failed"]


async def test_the_user_filter_keeps_only_events_about_that_account(api: Api) -> None:
    admin = await some_history(api)
    everything = await audit_trail(api)
    target = next(i["user_id"] for i in everything if i["action"] == "auth.login_failed")

    items = (await page(api, admin, user_id=target))["items"]

    assert items == [i for i in everything if i["user_id"] == target]
    assert {i["action"] for i in items} == {"user.created", "auth.login_failed"}


async def test_the_since_filter_keeps_events_at_or_after_it(api: Api) -> None:
    admin = await some_history(api)
    everything = await audit_trail(api)
    pivot = everything[len(everything) // 2]["at"]

    items = (await page(api, admin, since=pivot))["items"]

    expected = [i for i in everything if datetime.fromisoformat(i["at"]) >= datetime.fromisoformat(pivot)]
    assert items == expected
    assert 0 < len(items) < len(everything)
    assert (await page(api, admin, since="2999-01-01T00:00:00+00:00"))["items"] == []
    assert len((await page(api, admin, since="2000-01-01T00:00:00+02:00"))["items"]) == len(everything)


async def test_filters_combine(api: Api) -> None:
    admin = await some_history(api)
    target = (await page(api, admin, action="auth.login_failed"))["items"][0]["user_id"]

    items = (await page(api, admin, action="user.created", user_id=target))["items"]

    assert [(i["action"], i["user_id"]) for i in items] == [("user.created", target)]


# --- Limits and cursors --------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_walking_the_cursors_visits_every_event_once_in_order(api: Api, path: str) -> None:
    admin = await some_history(api)
    everything = (await page(api, admin, path, limit=100))["items"]

    walked: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3}
    for _ in range(len(everything)):
        body = await page(api, admin, path, **params)
        assert len(body["items"]) <= 3
        walked.extend(body["items"])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert walked == everything


async def test_a_filtered_walk_keeps_its_filter(api: Api) -> None:
    admin = await some_history(api)
    first = await page(api, admin, action="user.created", limit=2)

    second = await page(api, admin, action="user.created", limit=2, cursor=first["next_cursor"])

    assert {i["action"] for i in first["items"] + second["items"]} == {"user.created"}
    assert first["items"][-1]["id"] > second["items"][0]["id"]


@pytest.mark.parametrize("limit", ["1", "100"])
async def test_limits_from_1_to_100_are_accepted(api: Api, limit: str) -> None:
    admin = await some_history(api)

    items = (await page(api, admin, limit=limit))["items"]

    assert 1 <= len(items) <= int(limit)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "abc"),
        ("limit", "-1"),
        ("action", "user.exploded"),
        ("since", "yesterday"),
        ("since", "2026-13-01T00:00:00+00:00"),
        ("since", "2026-01-01T00:00:00"),
        ("since", "0001-01-01T00:00:00+14:00"),  # before any instant a database holds
        ("since", "9999-12-31T23:59:59-14:00"),  # after any
        ("user_id", "abc"),
        ("user_id", "9223372036854775808"),
        ("user_id", "²"),
        ("action", "user.created\x00"),
        ("cursor", "not-a-cursor"),
    ],
)
async def test_a_bad_query_parameter_is_400(api: Api, name: str, value: str) -> None:
    admin = await some_history(api)

    response = await api.client.get(AUDIT, params={name: value}, headers=admin.auth)

    assert_envelope(response, 400, "BadRequestError")


async def test_an_edited_or_forged_cursor_is_400(api: Api) -> None:
    admin = await some_history(api)
    cursor = (await page(api, admin, limit=2))["next_cursor"]
    assert isinstance(cursor, str)
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    forged = base64.urlsafe_b64encode(b'{"id": 1}').decode().rstrip("=")

    for bad in (flipped, forged):
        response = await api.client.get(AUDIT, params={"limit": 2, "cursor": bad}, headers=admin.auth)
        assert_envelope(response, 400, "BadRequestError")
