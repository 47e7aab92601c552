"""Who may do what to orders (CONTRACT §4, with §3's visibility rule): reads, creation, deletion, paths."""

import pytest

from tests.e2e.conftest import Api, assert_envelope
from tests.e2e.orders_support import (
    ENTITY_TAG,
    ORDER,
    ROUTES,
    UNKNOWN,
    Cast,
    as_admin,
    call,
    listed_ids,
    new_cast,
    order_at,
    orders_of,
    place,
)


@pytest.fixture
async def cast(api: Api) -> Cast:
    return await new_cast(api)


# --- Anonymous -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
async def test_an_anonymous_caller_gets_401_with_a_bearer_challenge_and_changes_nothing(
    api: Api, cast: Cast, route: str
) -> None:
    order = await place(api, cast)

    response = await call(api, cast, "anonymous", route, cast.owner.id, order["id"])

    assert_envelope(response, 401, "AuthenticationError")
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order
    assert await listed_ids(api, cast, cast.owner.id) == [order["id"]]


# --- List ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "moderator", "admin"])
async def test_the_owner_a_moderator_and_an_admin_list_exactly_the_owners_orders(
    api: Api, cast: Cast, who: str
) -> None:
    mine = [await place(api, cast), await place(api, cast, "paid")]
    await place(api, cast, owner=cast.other)

    response = await api.client.get(orders_of(cast.owner.id), headers=cast.headers(who))

    assert response.status_code == 200, response.text
    assert response.json()["items"] == mine
    assert response.json()["total"] == 2


# --- Create --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin"])
async def test_the_owner_and_an_admin_create_a_pending_order_at_its_location(
    api: Api, cast: Cast, who: str
) -> None:
    response = await api.client.post(orders_of(cast.owner.id), json=ORDER, headers=cast.headers(who))

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["user_id"], body["status"], body["currency"]) == (cast.owner.id, "pending", "EUR")
    assert body["items"] == ORDER["items"]
    assert response.headers["location"] == f"/api/v1/users/{cast.owner.id}/orders/{body['id']}"
    assert (await api.client.get(response.headers["location"], headers=cast.admin.auth)).json() == body


@pytest.mark.parametrize("who", ["moderator", "other"])
async def test_a_moderator_or_another_user_may_not_create_an_order_for_someone(
    api: Api, cast: Cast, who: str
) -> None:
    response = await api.client.post(orders_of(cast.owner.id), json=ORDER, headers=cast.headers(who))

    assert_envelope(response, 403, "PermissionDeniedError")
    assert await listed_ids(api, cast, cast.owner.id) == []


# --- Read ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "moderator", "admin"])
async def test_the_owner_a_moderator_and_an_admin_read_an_order_with_an_etag(
    api: Api, cast: Cast, who: str
) -> None:
    order = await place(api, cast)

    response = await api.client.get(order_at(cast.owner.id, order["id"]), headers=cast.headers(who))

    assert response.status_code == 200, response.text
    assert response.json() == order
    assert ENTITY_TAG.match(response.headers["etag"])


# --- Delete --------------------------------------------------------------------------------------


async def test_an_admin_deletes_an_order(api: Api, cast: Cast) -> None:
    order, kept = await place(api, cast), await place(api, cast)

    response = await api.client.delete(order_at(cast.owner.id, order["id"]), headers=cast.admin.auth)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_envelope(await as_admin(api, cast, cast.owner.id, order["id"]), 404, "NotFoundError")
    assert await listed_ids(api, cast, cast.owner.id) == [kept["id"]]


@pytest.mark.parametrize("who", ["owner", "moderator", "other"])
async def test_nobody_but_an_admin_may_delete_an_order(api: Api, cast: Cast, who: str) -> None:
    order = await place(api, cast)

    response = await api.client.delete(order_at(cast.owner.id, order["id"]), headers=cast.headers(who))

    assert_envelope(response, 403, "PermissionDeniedError")
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order


# --- Unknown users and foreign paths -------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who", ["moderator", "admin"])
async def test_an_unknown_user_id_is_404_for_those_who_may_read_others(
    api: Api, cast: Cast, who: str, route: str
) -> None:
    order = await place(api, cast)
    response = await call(api, cast, who, route, UNKNOWN, order["id"])
    assert_envelope(response, 404, "NotFoundError")
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("uid", ["unknown", "other"])
async def test_a_plain_user_gets_403_for_any_user_id_but_their_own_whether_or_not_it_exists(
    api: Api, cast: Cast, route: str, uid: str
) -> None:
    order = await place(api, cast, owner=cast.other)
    target = UNKNOWN if uid == "unknown" else cast.other.id
    response = await call(api, cast, "owner", route, target, order["id"])
    assert_envelope(response, 403, "PermissionDeniedError")
    assert (await as_admin(api, cast, cast.other.id, order["id"])).json() == order


@pytest.mark.parametrize("route", ["get", "patch", "delete"])
@pytest.mark.parametrize("who", ["other", "moderator", "admin"])
async def test_an_order_reached_through_another_users_path_is_404_and_untouched(
    api: Api, cast: Cast, who: str, route: str
) -> None:
    order = await place(api, cast)
    response = await call(api, cast, who, route, cast.other.id, order["id"])
    assert_envelope(response, 404, "NotFoundError")
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order


@pytest.mark.parametrize("who", ["owner", "admin"])
async def test_an_unknown_order_id_under_a_real_user_is_404(api: Api, cast: Cast, who: str) -> None:
    response = await call(api, cast, who, "get", cast.owner.id, UNKNOWN)
    assert_envelope(response, 404, "NotFoundError")


async def test_deleting_a_user_removes_their_orders(api: Api, cast: Cast) -> None:
    order = await place(api, cast, "paid")
    others = await place(api, cast, owner=cast.other)

    deleted = await api.client.delete(f"/api/v1/users/{cast.owner.id}", headers=cast.admin.auth)

    assert deleted.status_code == 204, deleted.text
    assert_envelope(await as_admin(api, cast, cast.owner.id, order["id"]), 404, "NotFoundError")
    assert_envelope(await call(api, cast, "admin", "list", cast.owner.id, 0), 404, "NotFoundError")
    assert (await as_admin(api, cast, cast.other.id, others["id"])).json() == others
