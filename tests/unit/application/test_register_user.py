"""RegisterUser: public sign-up and an admin's creation with a chosen role."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.account_mail import AccountMailer
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.users import NewUser
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.passwords import NistPasswordPolicy
from gatehouse.domain.policy import Actor
from gatehouse.domain.values import Email, Role, Username
from tests.unit.application.conftest import PASSWORD, Accounts

PLAIN_USER = Actor(user_id=50, role=Role.USER, session_id=1)
MODERATOR = Actor(user_id=51, role=Role.MODERATOR, session_id=2)
ADMIN = Actor(user_id=52, role=Role.ADMIN, session_id=3)


def sign_up(**overrides: object) -> RegisterUser.Command:
    fields: dict[str, object] = {"email": "ada@example.com", "username": "ada_l", "password": PASSWORD}
    fields.update(overrides)
    return RegisterUser.Command(**fields)  # type: ignore[arg-type]


async def test_sign_up_creates_an_active_account_with_the_user_role(
    register: RegisterUser, clock: FixedClock
) -> None:
    user = await register.execute(sign_up(full_name="Ada Lovelace"))
    assert user.id > 0
    assert (user.email.value, user.username.value) == ("ada@example.com", "ada_l")
    assert user.full_name is not None
    assert user.full_name.value == "Ada Lovelace"
    assert user.role is Role.USER
    assert user.is_active is True
    assert user.created_at == user.updated_at == clock.now()
    assert user.version == 1


async def test_sign_up_is_committed_to_the_database(
    register: RegisterUser, database: InMemoryDatabase
) -> None:
    user = await register.execute(sign_up())
    assert database.state.users[user.id].email == Email("ada@example.com")
    assert database.commits == 1


async def test_full_name_is_optional(register: RegisterUser) -> None:
    assert (await register.execute(sign_up())).full_name is None


async def test_email_is_stored_lower_cased(register: RegisterUser) -> None:
    user = await register.execute(sign_up(email="Ada.Lovelace@Example.COM"))
    assert user.email.value == "ada.lovelace@example.com"


async def test_only_a_hash_of_the_password_is_stored(
    register: RegisterUser, hasher: InMemoryPasswordHasher, database: InMemoryDatabase
) -> None:
    user = await register.execute(sign_up())
    assert database.state.users[user.id].password_hash == f"fake1${PASSWORD}"
    assert hasher.calls == ["hash"]


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"])
async def test_a_taken_email_in_any_case_is_a_conflict(
    register: RegisterUser, database: InMemoryDatabase, email: str
) -> None:
    await register.execute(sign_up())
    with pytest.raises(ConflictError, match="Email"):
        await register.execute(sign_up(email=email, username="someone_else"))
    assert len(database.state.users) == 1


@pytest.mark.parametrize("username", ["ada_l", "ADA_L", "Ada_L"])
async def test_a_taken_username_in_any_case_is_a_conflict(
    register: RegisterUser, database: InMemoryDatabase, username: str
) -> None:
    await register.execute(sign_up())
    with pytest.raises(ConflictError, match="Username"):
        await register.execute(sign_up(email="other@example.com", username=username))
    assert len(database.state.users) == 1


@pytest.mark.parametrize("actor", [None, PLAIN_USER, MODERATOR], ids=["anonymous", "user", "moderator"])
@pytest.mark.parametrize(
    "privileged", [{"role": "user"}, {"role": "admin"}, {"is_active": True}, {"is_active": False}]
)
async def test_non_admin_cannot_send_role_or_is_active(
    register: RegisterUser,
    hasher: InMemoryPasswordHasher,
    database: InMemoryDatabase,
    actor: Actor | None,
    privileged: dict[str, object],
) -> None:
    with pytest.raises(PermissionDeniedError):
        await register.execute(sign_up(actor=actor, **privileged))
    assert database.state.users == {}
    assert hasher.calls == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MODERATOR, Role.USER])
async def test_admin_may_create_an_account_with_any_role(register: RegisterUser, role: Role) -> None:
    user = await register.execute(sign_up(actor=ADMIN, role=role.value))
    assert user.role is role


async def test_admin_may_create_an_inactive_account(register: RegisterUser) -> None:
    user = await register.execute(sign_up(actor=ADMIN, is_active=False))
    assert user.is_active is False
    assert user.role is Role.USER


async def test_a_signed_in_user_without_privileged_fields_may_create_an_account(
    register: RegisterUser,
) -> None:
    user = await register.execute(sign_up(actor=PLAIN_USER))
    assert user.role is Role.USER


@pytest.mark.parametrize("password", ["Short1A", "alllower123", "ALLUPPER123", "NoDigitsHere", "A1b" * 43])
async def test_weak_password_is_an_invalid_value_of_the_password_field(
    register: RegisterUser, database: InMemoryDatabase, password: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await register.execute(sign_up(password=password))
    assert caught.value.field == "password"
    assert database.state.users == {}


async def test_the_configured_policy_decides_password_strength(
    uow: InMemoryUnitOfWork, hasher: InMemoryPasswordHasher, clock: FixedClock, mailer: AccountMailer
) -> None:
    register = RegisterUser(uow, hasher, NistPasswordPolicy(frozenset()), clock, mailer)
    with pytest.raises(InvalidValueError, match="15-128"):
        await register.execute(sign_up(password=PASSWORD))
    user = await register.execute(sign_up(password="correct horse battery"))
    assert user.username == Username("ada_l")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"username": "a!"}, "username"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"actor": ADMIN, "role": "root"}, "role"),
    ],
)
async def test_an_invalid_value_names_its_field(
    register: RegisterUser, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await register.execute(sign_up(**overrides))
    assert caught.value.field == field


async def test_accounts_helper_makes_each_role(accounts: Accounts) -> None:
    made = [await accounts.admin(), await accounts.moderator(), await accounts.user()]
    assert [u.role for u in made] == [Role.ADMIN, Role.MODERATOR, Role.USER]


async def test_a_unit_of_work_left_without_commit_persists_nothing(
    uow: InMemoryUnitOfWork, database: InMemoryDatabase, clock: FixedClock
) -> None:
    new = NewUser(
        email=Email("ada@example.com"),
        username=Username("ada_l"),
        full_name=None,
        role=Role.USER,
        is_active=True,
        password_hash="h",
        created_at=clock.now(),
    )

    async def add_then_fail() -> None:
        async with uow:
            await uow.users.add(new)
            assert await uow.users.get_by_email(new.email) is not None
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await add_then_fail()
    assert database.state.users == {}
    assert database.commits == 0
    async with uow:
        assert await uow.users.get_by_email(new.email) is None


async def test_a_failing_sign_up_leaves_earlier_accounts_untouched(
    register: RegisterUser, database: InMemoryDatabase
) -> None:
    first = await register.execute(sign_up())
    with pytest.raises(ConflictError):
        await register.execute(sign_up(username="ADA_L", email="b@example.com"))
    assert list(database.state.users) == [first.id]
    assert database.commits == 1
