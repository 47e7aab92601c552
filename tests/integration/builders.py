"""Builders of stored accounts and sessions for the contract tests."""

from datetime import UTC, datetime, timedelta

from gatehouse.application.ports.sessions import NewSession
from gatehouse.application.ports.users import NewUser
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, FullName, Role, Username
from tests.integration.conftest import Backend

# Microseconds on purpose: every engine must give them back unchanged.
T0 = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$aGFzaA"


def new_user(
    username: str,
    *,
    email: str | None = None,
    full_name: str | None = None,
    role: Role = Role.USER,
    is_active: bool = True,
    created_at: datetime = T0,
    email_verified: bool = False,
) -> NewUser:
    return NewUser(
        email=Email(email or f"{username.lower()}@example.com"),
        username=Username(username),
        full_name=FullName(full_name) if full_name is not None else None,
        role=role,
        is_active=is_active,
        password_hash=HASH,
        created_at=created_at,
        email_verified=email_verified,
    )


def new_session(user: User, *, expires_in: timedelta = timedelta(days=14)) -> NewSession:
    return NewSession(
        user_id=user.id, created_at=T0, expires_at=T0 + expires_in, ip="192.0.2.7", user_agent="pytest/1"
    )


async def store_users(backend: Backend, *news: NewUser) -> list[User]:
    """Add the accounts in one committed unit of work, in order (so ids grow in that order)."""
    async with backend.new_uow() as uow:
        users = [await uow.users.add(new) for new in news]
        await uow.commit()
    return users


async def store_session(backend: Backend, user: User, **kwargs: timedelta) -> Session:
    async with backend.new_uow() as uow:
        session = await uow.sessions.add(new_session(user, **kwargs))
        await uow.commit()
    return session


async def fetch_user(backend: Backend, user_id: int) -> User | None:
    """The committed state of an account, read in a unit of work of its own."""
    async with backend.new_uow() as uow:
        return await uow.users.get(user_id)


async def fetch_session(backend: Backend, session_id: int) -> Session | None:
    async with backend.new_uow() as uow:
        return await uow.sessions.get(session_id)


def assert_utc(*moments: datetime | None) -> None:
    for moment in moments:
        assert moment is not None
        assert moment.utcoffset() == timedelta(0), moment
