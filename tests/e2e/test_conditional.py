"""Conditional requests on one account (CONTRACT §3): `ETag`, `If-None-Match` → 304, `If-Match` → 412."""

import re
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Account, Api, assert_envelope

USERS = "/api/v1/users"
ENTITY_TAG = re.compile(r'^(W/)?"[^"]*"$')
CHANGES: dict[str, dict[str, Any] | None] = {
    "PUT": {"email": "changed@example.com", "username": "changed_name", "full_name": "Changed"},
    "PATCH": {"full_name": "Changed"},
    "DELETE": None,
}


async def subject_and_admin(api: Api) -> tuple[Account, Account]:
    return await api.create_account("user"), await api.admin()


async def read(api: Api, account: Account, path: str, **headers: str) -> httpx.Response:
    return await api.client.get(f"{USERS}/{path}", headers={**account.auth, **headers})


async def current(api: Api, user_id: int) -> httpx.Response:
    response = await read(api, await api.admin(), str(user_id))
    assert response.status_code == 200, response.text
    return response


async def send(api: Api, method: str, user_id: int, if_match: str, admin: Account) -> httpx.Response:
    return await api.client.request(
        method, f"{USERS}/{user_id}", json=CHANGES[method], headers={**admin.auth, "If-Match": if_match}
    )


# --- ETag and If-None-Match ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["id", "me"])
async def test_reading_an_account_carries_a_stable_etag(api: Api, path: str) -> None:
    me = await api.create_account("user")
    first = await read(api, me, str(me.id) if path == "id" else "me")
    second = await read(api, me, str(me.id) if path == "id" else "me")
    assert first.status_code == 200
    assert ENTITY_TAG.match(first.headers["etag"])
    assert second.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize("path", ["id", "me"])
async def test_if_none_match_with_the_current_etag_is_304_with_no_body(api: Api, path: str) -> None:
    me = await api.create_account("user")
    where = str(me.id) if path == "id" else "me"
    tag = (await read(api, me, where)).headers["etag"]

    response = await read(api, me, where, **{"If-None-Match": tag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag


@pytest.mark.parametrize("path", ["id", "me"])
async def test_if_none_match_with_a_stale_etag_is_200_with_the_new_etag(api: Api, path: str) -> None:
    me = await api.create_account("user")
    where = str(me.id) if path == "id" else "me"
    stale = (await read(api, me, where)).headers["etag"]
    changed = await api.client.patch(f"{USERS}/{me.id}", json={"full_name": "New Name"}, headers=me.auth)
    assert changed.status_code == 200

    response = await read(api, me, where, **{"If-None-Match": stale})

    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    assert response.headers["etag"] not in (stale, "")
    assert response.headers["etag"] == changed.headers["etag"]


async def test_an_unknown_account_with_if_none_match_is_still_404(api: Api) -> None:
    admin = await api.admin()
    response = await read(api, admin, "987654", **{"If-None-Match": "*"})
    assert_envelope(response, 404, "NotFoundError")


# --- If-Match ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(CHANGES))
async def test_a_stale_if_match_is_412_and_changes_nothing(api: Api, method: str) -> None:
    subject, admin = await subject_and_admin(api)
    stale = (await current(api, subject.id)).headers["etag"]
    between = await api.client.patch(
        f"{USERS}/{subject.id}", json={"full_name": "Between"}, headers=admin.auth
    )
    assert between.status_code == 200
    before = await current(api, subject.id)

    response = await send(api, method, subject.id, stale, admin)

    assert_envelope(response, 412, "PreconditionFailedError")
    after = await current(api, subject.id)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize("method", list(CHANGES))
@pytest.mark.parametrize("if_match", ['"no-such-tag"', "garbage", 'W/"v1"'])
async def test_an_if_match_naming_no_current_etag_is_412(api: Api, method: str, if_match: str) -> None:
    subject, admin = await subject_and_admin(api)
    before = await current(api, subject.id)

    response = await send(api, method, subject.id, if_match, admin)

    assert_envelope(response, 412, "PreconditionFailedError")
    assert (await current(api, subject.id)).json() == before.json()


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("use_star", [False, True], ids=["current-etag", "star"])
async def test_a_matching_if_match_updates_and_returns_a_new_etag(
    api: Api, method: str, use_star: bool
) -> None:
    subject, admin = await subject_and_admin(api)
    old = (await current(api, subject.id)).headers["etag"]

    response = await send(api, method, subject.id, "*" if use_star else old, admin)

    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Changed"
    new = response.headers["etag"]
    assert ENTITY_TAG.match(new)
    assert new != old
    after = await current(api, subject.id)
    assert after.headers["etag"] == new
    assert after.json()["full_name"] == "Changed"


@pytest.mark.parametrize("use_star", [False, True], ids=["current-etag", "star"])
async def test_a_matching_if_match_deletes(api: Api, use_star: bool) -> None:
    subject, admin = await subject_and_admin(api)
    tag = (await current(api, subject.id)).headers["etag"]

    response = await send(api, "DELETE", subject.id, "*" if use_star else tag, admin)

    assert response.status_code == 204, response.text
    assert_envelope(await read(api, admin, str(subject.id)), 404, "NotFoundError")


async def test_the_new_etag_works_as_the_next_if_match_and_the_old_one_no_longer_does(api: Api) -> None:
    subject, admin = await subject_and_admin(api)
    first = (await current(api, subject.id)).headers["etag"]
    second = (await send(api, "PATCH", subject.id, first, admin)).headers["etag"]

    assert_envelope(await send(api, "PATCH", subject.id, first, admin), 412, "PreconditionFailedError")
    assert (await send(api, "PATCH", subject.id, second, admin)).status_code == 200


async def test_if_match_listing_the_current_etag_among_others_matches(api: Api) -> None:
    subject, admin = await subject_and_admin(api)
    tag = (await current(api, subject.id)).headers["etag"]

    response = await send(api, "PATCH", subject.id, f'"not-it", {tag}', admin)

    assert response.status_code == 200, response.text


async def test_a_foreign_if_match_on_an_unknown_user_is_404_not_412(api: Api) -> None:
    """Preconditions are evaluated last (RFC 9110 §13.2.1): existence first."""
    admin = await api.admin()
    response = await api.client.delete("/api/v1/users/999999", headers={**admin.auth, "If-Match": "x"})
    assert_envelope(response, 404, "NotFoundError")


async def test_a_foreign_if_match_from_a_plain_user_on_another_account_is_403_not_412(api: Api) -> None:
    user = await api.create_account()
    other = await api.create_account()
    response = await api.client.patch(
        f"/api/v1/users/{other.id}", json={"full_name": "X"}, headers={**user.auth, "If-Match": "x"}
    )
    assert_envelope(response, 403, "PermissionDeniedError")
