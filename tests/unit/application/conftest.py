"""The use cases wired to the in-memory adapters, and accounts of each role made by sign-up."""

import itertools

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher, InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.application.account_mail import AccountLinks, AccountMailer
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.read_users import GetUser, ListUsers
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.sessions import Logout, RefreshSession, TokenPair
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.domain.passwords import ClassicPasswordPolicy
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Role

PASSWORD = "Secret123"
PUBLIC_URL = "https://gatehouse.test"
MAX_FAILURES = 3
# Creates the seed accounts; an admin's creation needs no stored admin behind the actor.
BOOTSTRAP_ADMIN = Actor.operator()


def actor_of(user: User, session_id: int = 0) -> Actor:
    return Actor(user_id=user.id, role=user.role, session_id=session_id)


class Accounts:
    """Makes accounts through `RegisterUser`: users by public sign-up, staff by an admin."""

    def __init__(self, register: RegisterUser, login: Login, authenticate: Authenticate) -> None:
        self._register = register
        self._login = login
        self._authenticate = authenticate
        self._numbers = itertools.count(1)

    async def create(
        self,
        role: Role = Role.USER,
        *,
        name: str | None = None,
        email: str | None = None,
        full_name: str | None = None,
        is_active: bool = True,
    ) -> User:
        """`name` is the username; the email is `<name>@example.com` unless given."""
        name = name or f"{role.value}{next(self._numbers)}"
        by_admin = role is not Role.USER or not is_active
        return await self._register.execute(
            RegisterUser.Command(
                email=email or f"{name}@example.com",
                username=name,
                password=PASSWORD,
                full_name=full_name,
                role=role.value if by_admin else None,
                is_active=is_active if by_admin else None,
                actor=BOOTSTRAP_ADMIN if by_admin else None,
            )
        )

    async def admin(
        self, *, name: str | None = None, email: str | None = None, full_name: str | None = None
    ) -> User:
        return await self.create(Role.ADMIN, name=name, email=email, full_name=full_name)

    async def moderator(
        self, *, name: str | None = None, email: str | None = None, full_name: str | None = None
    ) -> User:
        return await self.create(Role.MODERATOR, name=name, email=email, full_name=full_name)

    async def user(
        self, *, name: str | None = None, email: str | None = None, full_name: str | None = None
    ) -> User:
        return await self.create(Role.USER, name=name, email=email, full_name=full_name)

    async def sign_in(self, user: User, password: str = PASSWORD) -> tuple[TokenPair, Actor]:
        """Log in as `user` and resolve the access token into its actor."""
        pair = await self._login.execute(Login.Command(identifier=user.email.value, password=password))
        actor, _user = await self._authenticate.execute(Authenticate.Query(token=pair.access_token))
        return pair, actor


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def uow(database: InMemoryDatabase) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(database)


@pytest.fixture
def queries(database: InMemoryDatabase) -> InMemoryUserQueries:
    return InMemoryUserQueries(database)


@pytest.fixture
def hasher() -> InMemoryPasswordHasher:
    return InMemoryPasswordHasher()


@pytest.fixture
def tokens() -> InMemoryTokenIssuer:
    return InMemoryTokenIssuer()


@pytest.fixture
def counters(clock: FixedClock) -> InProcessCounters:
    return InProcessCounters(clock)


@pytest.fixture
def policy() -> ClassicPasswordPolicy:
    return ClassicPasswordPolicy()


@pytest.fixture
def secret_tokens() -> RandomSecretTokens:
    return RandomSecretTokens()


@pytest.fixture
def mailer(secret_tokens: RandomSecretTokens) -> AccountMailer:
    return AccountMailer(secret_tokens, AccountLinks(PUBLIC_URL))


@pytest.fixture
def register(
    uow: InMemoryUnitOfWork,
    hasher: InMemoryPasswordHasher,
    policy: ClassicPasswordPolicy,
    clock: FixedClock,
    mailer: AccountMailer,
) -> RegisterUser:
    return RegisterUser(uow, hasher, policy, clock, mailer)


@pytest.fixture
def get_user(queries: InMemoryUserQueries) -> GetUser:
    return GetUser(queries)


@pytest.fixture
def list_users(queries: InMemoryUserQueries) -> ListUsers:
    return ListUsers(queries)


@pytest.fixture
def replace_user(uow: InMemoryUnitOfWork, clock: FixedClock, mailer: AccountMailer) -> ReplaceUser:
    return ReplaceUser(uow, clock, mailer)


@pytest.fixture
def patch_user(uow: InMemoryUnitOfWork, clock: FixedClock, mailer: AccountMailer) -> PatchUser:
    return PatchUser(uow, clock, mailer)


@pytest.fixture
def delete_user(uow: InMemoryUnitOfWork, clock: FixedClock) -> DeleteUser:
    return DeleteUser(uow, clock)


@pytest.fixture
def change_password(
    uow: InMemoryUnitOfWork,
    queries: InMemoryUserQueries,
    hasher: InMemoryPasswordHasher,
    policy: ClassicPasswordPolicy,
    clock: FixedClock,
    counters: InProcessCounters,
) -> ChangePassword:
    return ChangePassword(uow, queries, hasher, policy, clock, counters, MAX_FAILURES)


@pytest.fixture
def login(
    uow: InMemoryUnitOfWork,
    queries: InMemoryUserQueries,
    hasher: InMemoryPasswordHasher,
    tokens: InMemoryTokenIssuer,
    counters: InProcessCounters,
    clock: FixedClock,
    secret_tokens: RandomSecretTokens,
) -> Login:
    return Login(uow, queries, hasher, tokens, counters, clock, MAX_FAILURES, secret_tokens)


@pytest.fixture
def refresh(uow: InMemoryUnitOfWork, tokens: InMemoryTokenIssuer, clock: FixedClock) -> RefreshSession:
    return RefreshSession(uow, tokens, clock)


@pytest.fixture
def logout(uow: InMemoryUnitOfWork, tokens: InMemoryTokenIssuer, clock: FixedClock) -> Logout:
    return Logout(uow, tokens, clock)


@pytest.fixture
def authenticate(
    tokens: InMemoryTokenIssuer, queries: InMemoryUserQueries, clock: FixedClock
) -> Authenticate:
    return Authenticate(tokens, queries, queries, clock)


@pytest.fixture
def accounts(register: RegisterUser, login: Login, authenticate: Authenticate) -> Accounts:
    return Accounts(register, login, authenticate)
