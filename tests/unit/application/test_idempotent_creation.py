"""IdempotentCreation over RegisterUser in memory: one creation per key, its answer stored with it."""

from collections.abc import Callable

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.errors import ConflictError
from gatehouse.application.idempotency import Answer, IdempotentCreation
from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.use_cases.idempotency import ClaimIdempotencyKey, ReleaseIdempotencyKey
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.user import User
from tests.unit.application.conftest import PASSWORD

KEY = ClaimIdempotencyKey.Command(scope="ip:192.0.2.1", key="key-1", fingerprint="sha256-of-the-body")
ADA = RegisterUser.Command(email="ada@example.com", username="ada", password=PASSWORD)


def render(user: User) -> StoredResponse:
    return StoredResponse(
        201, f'{{"id": {user.id}, "email": "{user.email.value}"}}'.encode(), f"/u/{user.id}"
    )


def unrenderable(user: User) -> StoredResponse:
    raise RuntimeError("the answer could not be rendered")


@pytest.fixture
def creation(uow: InMemoryUnitOfWork, clock: FixedClock) -> IdempotentCreation:
    return IdempotentCreation(ClaimIdempotencyKey(uow, clock), ReleaseIdempotencyKey(uow))


def signing_up(
    register: RegisterUser,
    command: RegisterUser.Command = ADA,
    claim: ClaimIdempotencyKey.Command | None = KEY,
    answer: Callable[[User], StoredResponse] = render,
) -> IdempotentCreation.Command[RegisterUser.Command, User]:
    return IdempotentCreation.Command(use_case=register, command=command, render=answer, claim=claim)


async def test_without_a_key_the_account_is_created_and_nothing_is_stored(
    creation: IdempotentCreation, register: RegisterUser, database: InMemoryDatabase
) -> None:
    answer = await creation.execute(signing_up(register, claim=None))

    [user] = database.state.users.values()
    assert answer == Answer(render(user), replayed=False)
    assert database.state.idempotency == {}


async def test_the_first_request_stores_its_rendered_answer_with_the_account(
    creation: IdempotentCreation, register: RegisterUser, database: InMemoryDatabase
) -> None:
    answer = await creation.execute(signing_up(register))

    [user] = database.state.users.values()
    assert answer == Answer(render(user), replayed=False)
    assert database.state.idempotency[(KEY.scope, KEY.key)].response == render(user)


async def test_a_retry_replays_the_first_answer_byte_for_byte_and_creates_nothing(
    creation: IdempotentCreation, register: RegisterUser, database: InMemoryDatabase
) -> None:
    first = await creation.execute(signing_up(register))
    retried = RegisterUser.Command(email="bob@example.com", username="bob", password=PASSWORD)

    replay = await creation.execute(signing_up(register, retried))

    assert replay == Answer(first.response, replayed=True)
    assert [u.username.value for u in database.state.users.values()] == ["ada"]


async def test_the_key_with_another_request_is_refused_and_creates_nothing(
    creation: IdempotentCreation, register: RegisterUser, database: InMemoryDatabase
) -> None:
    await creation.execute(signing_up(register))
    other = ClaimIdempotencyKey.Command(scope=KEY.scope, key=KEY.key, fingerprint="another-body")

    with pytest.raises(InvalidValueError):
        await creation.execute(signing_up(register, claim=other))
    assert len(database.state.users) == 1


async def test_a_failed_creation_releases_the_key(
    creation: IdempotentCreation, register: RegisterUser, database: InMemoryDatabase
) -> None:
    await register.execute(ADA)

    with pytest.raises(ConflictError):
        await creation.execute(signing_up(register))

    assert database.state.idempotency == {}
    other = RegisterUser.Command(email="bob@example.com", username="bob", password=PASSWORD)
    assert not (await creation.execute(signing_up(register, other))).replayed


async def test_an_answer_that_cannot_be_stored_rolls_the_account_back_and_releases_the_key(
    creation: IdempotentCreation, register: RegisterUser, database: InMemoryDatabase
) -> None:
    with pytest.raises(RuntimeError, match="could not be rendered"):
        await creation.execute(signing_up(register, answer=unrenderable))

    state = database.state
    assert (state.users, state.idempotency, state.mails, state.audit_events) == ({}, {}, {}, {})
