"""§10 sessions: list and end one's own (`/users/me/sessions…`); an admin's `DELETE /users/{id}/sessions`."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from gatehouse.adapters.sqlalchemy.tables import sessions
from tests.e2e.account_support import (
    AUTH,
    USERS,
    assert_unauthenticated,
    caller,
    headers,
)
from tests.e2e.conftest import Account, Api, assert_envelope

MINE = f"{USERS}/me/sessions"
SESSION_FIELDS = {"id", "created_at", "last_used_at", "ip", "user_agent", "current"}
LONG_AGO = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


@dataclass
class Login:
    """One session: its tokens and its id (as the sessions list names it)."""

    access: str
    refresh: str
    id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def listed(api: Api, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.client.get(MINE, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-cache"
    assert set(response.json()) == {"items"}
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def log_in(api: Api, account: Account, user_agent: str = "lifecycle-tests/1.0") -> Login:
    response = await api.client.post(
        f"{AUTH}/token",
        json={"email": account.email, "password": account.password},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    access, refresh = response.json()["access_token"], response.json()["refresh_token"]
    [current] = [s for s in await listed(api, {"Authorization": f"Bearer {access}"}) if s["current"]]
    return Login(access, refresh, current["id"])


async def works(api: Api, login: Login) -> bool:
    """Whether the session's access token still reads `/users/me` (a 401 otherwise)."""
    response = await api.client.get(f"{USERS}/me", headers=login.auth)
    if response.status_code == 401:
        assert_unauthenticated(response)
        return False
    assert response.status_code == 200, response.text
    return True


async def refreshes(api: Api, login: Login) -> httpx.Response:
    return await api.client.post(f"{AUTH}/refresh", json={"refresh_token": login.refresh})


def moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None, text
    return parsed


# --- GET /users/me/sessions ----------------------------------------------------------------------


async def test_the_list_shows_each_live_session_newest_first_with_the_caller_marked_current(api: Api) -> None:
    account = await api.create_account()
    first = await log_in(api, account, "Agent-One/1")
    second = await log_in(api, account, "Agent-Two/2")

    items = await listed(api, first.auth)

    assert all(set(item) == SESSION_FIELDS for item in items)
    assert [i["id"] for i in items][:2] == [second.id, first.id]
    assert len(items) == 3  # the fixture's own log-in comes last
    assert [i["id"] for i in items if i["current"]] == [first.id]
    by_id = {i["id"]: i for i in items}
    assert (by_id[first.id]["user_agent"], by_id[second.id]["user_agent"]) == ("Agent-One/1", "Agent-Two/2")
    assert {i["ip"] for i in items} == {"127.0.0.1"}
    for item in items:
        assert moment(item["created_at"]) == moment(item["last_used_at"])
    assert [i["id"] for i in await listed(api, second.auth) if i["current"]] == [second.id]


async def test_a_refresh_moves_that_sessions_last_used_at_only(api: Api) -> None:
    account = await api.create_account()
    used, idle = await log_in(api, account), await log_in(api, account)
    async with api.container.database().write_engine.begin() as conn:
        await conn.execute(
            update(sessions).where(sessions.c.user_id == account.id).values(last_used_at=LONG_AGO)
        )

    assert (await refreshes(api, used)).status_code == 200

    by_id = {i["id"]: i for i in await listed(api, idle.auth)}
    assert moment(by_id[used.id]["last_used_at"]) > LONG_AGO
    assert moment(by_id[idle.id]["last_used_at"]) == LONG_AGO


async def test_only_the_callers_own_sessions_are_listed(api: Api) -> None:
    mine, theirs = await api.create_account(), await api.create_account()
    other = await log_in(api, theirs)

    ids = {i["id"] for i in await listed(api, mine.auth)}
    their_ids = {i["id"] for i in await listed(api, other.auth)}

    assert len(ids) == 1
    assert ids.isdisjoint(their_ids)
    assert other.id in their_ids


async def test_listing_sessions_without_a_token_is_401(api: Api) -> None:
    assert_unauthenticated(await api.client.get(MINE))


async def test_an_ended_session_is_no_longer_listed(api: Api) -> None:
    account = await api.create_account()
    gone = await log_in(api, account)
    assert (await api.client.post(f"{AUTH}/logout", headers=gone.auth)).status_code == 204

    assert gone.id not in {i["id"] for i in await listed(api, account.auth)}


# --- DELETE /users/me/sessions/{sid} -------------------------------------------------------------


async def test_ending_another_of_ones_sessions_stops_its_tokens_and_keeps_the_rest(api: Api) -> None:
    account = await api.create_account()
    keeper, doomed = await log_in(api, account), await log_in(api, account)

    response = await api.client.delete(f"{MINE}/{doomed.id}", headers=keeper.auth)

    assert response.status_code == 204, response.text
    assert not await works(api, doomed)
    assert_unauthenticated(await refreshes(api, doomed))
    assert await works(api, keeper)
    assert (await refreshes(api, keeper)).status_code == 200
    assert doomed.id not in {i["id"] for i in await listed(api, account.auth)}


async def test_ending_the_current_session_signs_the_caller_out(api: Api) -> None:
    account = await api.create_account()
    current = await log_in(api, account)

    assert (await api.client.delete(f"{MINE}/{current.id}", headers=current.auth)).status_code == 204

    assert not await works(api, current)
    assert_unauthenticated(await refreshes(api, current))


@pytest.mark.parametrize("role", ["user", "moderator", "admin"])
async def test_another_users_session_is_404_and_keeps_working(api: Api, role: str) -> None:
    someone = await caller(api, role)
    assert someone is not None
    victim = await log_in(api, await api.create_account())

    response = await api.client.delete(f"{MINE}/{victim.id}", headers=someone.auth)

    assert_envelope(response, 404, "NotFoundError")
    assert await works(api, victim)


async def test_an_unknown_or_already_ended_session_is_404(api: Api) -> None:
    account = await api.create_account()
    ended = await log_in(api, account)
    assert (await api.client.delete(f"{MINE}/{ended.id}", headers=account.auth)).status_code == 204

    assert_envelope(await api.client.delete(f"{MINE}/{ended.id}", headers=account.auth), 404, "NotFoundError")
    assert_envelope(await api.client.delete(f"{MINE}/987654", headers=account.auth), 404, "NotFoundError")


@pytest.mark.parametrize("sid", ["abc", "1.5", "-1", "0"])
async def test_a_session_id_that_is_not_a_positive_integer_is_400(api: Api, sid: str) -> None:
    account = await api.create_account()

    assert_envelope(await api.client.delete(f"{MINE}/{sid}", headers=account.auth), 400, "BadRequestError")


async def test_ending_a_session_without_a_token_is_401(api: Api) -> None:
    account = await api.create_account()
    session = await log_in(api, account)

    assert_unauthenticated(await api.client.delete(f"{MINE}/{session.id}"))
    assert await works(api, session)


# --- DELETE /users/{id}/sessions -----------------------------------------------------------------


async def test_an_admin_signs_a_user_out_everywhere(api: Api) -> None:
    admin = await api.admin()
    target = await api.create_account()
    logins = [await log_in(api, target), await log_in(api, target)]

    response = await api.client.delete(f"{USERS}/{target.id}/sessions", headers=admin.auth)

    assert response.status_code == 204, response.text
    assert_unauthenticated(await api.client.get(f"{USERS}/me", headers=target.auth))
    assert_unauthenticated(
        await api.client.post(f"{AUTH}/refresh", json={"refresh_token": target.refresh_token})
    )
    for login in logins:
        assert not await works(api, login)
        assert_unauthenticated(await refreshes(api, login))
    assert (await api.client.get(f"{USERS}/me", headers=admin.auth)).status_code == 200
    assert (
        await api.client.post(f"{AUTH}/token", json={"email": target.email, "password": target.password})
    ).status_code == 200


@pytest.mark.parametrize(
    ("who", "target"), [("moderator", "user"), ("user", "self"), ("user", "user"), ("moderator", "self")]
)
async def test_only_an_admin_may_sign_someone_out_everywhere(api: Api, who: str, target: str) -> None:
    someone = await caller(api, who)
    assert someone is not None
    victim = someone if target == "self" else await api.create_account(target)
    session = await log_in(api, victim)

    response = await api.client.delete(f"{USERS}/{victim.id}/sessions", headers=someone.auth)

    assert_envelope(response, 403, "PermissionDeniedError")
    assert await works(api, session)


async def test_an_admin_signing_out_an_unknown_id_gets_404(api: Api) -> None:
    admin = await api.admin()

    assert_envelope(
        await api.client.delete(f"{USERS}/987654/sessions", headers=admin.auth), 404, "NotFoundError"
    )


async def test_signing_someone_out_anonymously_is_401(api: Api) -> None:
    target = await api.create_account()

    assert_unauthenticated(await api.client.delete(f"{USERS}/{target.id}/sessions", headers=headers(None)))
    assert (await api.client.get(f"{USERS}/me", headers=target.auth)).status_code == 200
