"""Who may move an order to which status (CONTRACT §4): legality first (409 for all), then permission."""

import asyncio

import pytest

from tests.e2e.conftest import Api, assert_envelope
from tests.e2e.orders_support import ILLEGAL, LEGAL, Cast, as_admin, move, new_cast, place


@pytest.fixture
async def cast(api: Api) -> Cast:
    return await new_cast(api)


async def test_the_owner_may_cancel_their_pending_order(api: Api, cast: Cast) -> None:
    order = await place(api, cast)

    response = await move(api, cast, "owner", order, "cancelled")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json()["status"] == "cancelled"


@pytest.mark.parametrize(("current", "target"), [m for m in LEGAL if m != ("pending", "cancelled")])
async def test_the_owner_may_make_no_other_legal_move(
    api: Api, cast: Cast, current: str, target: str
) -> None:
    order = await place(api, cast, current)

    assert_envelope(await move(api, cast, "owner", order, target), 403, "PermissionDeniedError")
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order


@pytest.mark.parametrize(("current", "target"), LEGAL)
@pytest.mark.parametrize("who", ["moderator", "other"])
async def test_a_moderator_or_another_user_may_make_no_legal_move(
    api: Api, cast: Cast, who: str, current: str, target: str
) -> None:
    order = await place(api, cast, current)

    assert_envelope(await move(api, cast, who, order, target), 403, "PermissionDeniedError")
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order


@pytest.mark.parametrize(("current", "target"), LEGAL)
async def test_an_admin_makes_every_legal_move(api: Api, cast: Cast, current: str, target: str) -> None:
    order = await place(api, cast, current)

    response = await move(api, cast, "admin", order, target)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == target
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json()["status"] == target


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
@pytest.mark.parametrize("who", ["owner", "moderator", "admin"])
async def test_an_illegal_move_is_409_for_everyone_who_may_see_the_order_before_any_permission_check(
    api: Api, cast: Cast, who: str, current: str, target: str
) -> None:
    order = await place(api, cast, current)

    assert_envelope(await move(api, cast, who, order, target), 409, "ConflictError")
    assert (await as_admin(api, cast, cast.owner.id, order["id"])).json() == order


async def test_simultaneous_moves_from_one_status_never_make_an_illegal_history(api: Api, cast: Cast) -> None:
    """paid → shipped and paid → cancelled at once: one wins, the other is judged from the status the
    winner left (409), on every engine: never both (which would leave shipped → cancelled)."""
    for _ in range(5):
        order = await place(api, cast, "paid")
        answers = await asyncio.gather(
            *(move(api, cast, "admin", order, target) for target in ["shipped", "cancelled"] * 3)
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] + [409] * 5, [a.text for a in answers]
        winner = next(a.json()["status"] for a in answers if a.status_code == 200)
        assert (await as_admin(api, cast, order["user_id"], order["id"])).json()["status"] == winner
