"""Units of work that overlap in time, on memory, SQLite and PostgreSQL (CONTRACT §9).

Each task yields to the loop between its steps so the two transactions interleave
wherever the engine lets them; SQLite instead holds the second at its BEGIN IMMEDIATE.
"""

import asyncio
from collections.abc import Awaitable, Callable

from gatehouse.application.errors import ConflictError, PreconditionFailedError
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserFilter, UserPageQuery
from gatehouse.domain.values import Username
from tests.integration.builders import T0, fetch_user, new_user, store_users
from tests.integration.conftest import Backend

Step = Callable[[UnitOfWork], Awaitable[object]]


async def _in_overlapping_units_of_work(backend: Backend, *steps: Step) -> list[object]:
    """Run each step in its own unit of work, all begun before any commits where possible."""

    async def run(step: Step) -> object:
        async with backend.new_uow() as uow:
            await asyncio.sleep(0)  # let the other unit of work begin
            result = await step(uow)
            await asyncio.sleep(0)
            await uow.commit()
        return result

    return await asyncio.gather(*(run(step) for step in steps), return_exceptions=True)


async def test_of_two_updates_expecting_the_same_version_exactly_one_wins(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("ada"))

    def rename(name: str) -> Step:
        return lambda uow: uow.users.update(
            ada.changed(T0, username=Username(name)), fields=("username",), expected_versions=[1]
        )

    outcomes = await _in_overlapping_units_of_work(backend, rename("ada_one"), rename("ada_two"))

    assert sorted(type(o).__name__ for o in outcomes) == ["PreconditionFailedError", "User"]
    stored = await fetch_user(backend, ada.id)
    assert stored is not None
    winner = "ada_one" if isinstance(outcomes[1], PreconditionFailedError) else "ada_two"
    assert (stored.username.value, stored.version) == (winner, 2)


async def test_of_two_sign_ups_with_one_email_exactly_one_is_stored(backend: Backend) -> None:
    outcomes = await _in_overlapping_units_of_work(
        backend,
        lambda uow: uow.users.add(new_user("first", email="same@example.com")),
        lambda uow: uow.users.add(new_user("second", email="same@example.com")),
    )

    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1
    page = await backend.queries.page(UserPageQuery(UserFilter()))
    assert page.total == 1


async def test_overlapping_units_of_work_lose_neither_write(backend: Backend) -> None:
    outcomes = await _in_overlapping_units_of_work(
        backend,
        lambda uow: uow.users.add(new_user("carol")),
        lambda uow: uow.users.add(new_user("dave")),
    )

    page = await backend.queries.page(UserPageQuery(UserFilter()))
    assert sorted(u.username.value for u in page.items) == ["carol", "dave"]
    assert len({u.id for u in page.items}) == 2
    assert not [o for o in outcomes if isinstance(o, BaseException)]
