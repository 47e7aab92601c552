"""Ports: what the use cases need from the world, as Protocols the adapters implement."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

# The counters port is its own module (by concept); named here too for the ports' importers.
from gatehouse.application.counters import Counters as Counters
from gatehouse.application.counters import Reservation as Reservation
from gatehouse.application.counters import WindowCount as WindowCount
from gatehouse.application.lifecycle_ports import AccountTokenRepository, AuditTrail, MailOutbox
from gatehouse.application.order_ports import (
    After,
    IdempotencyRepository,
    KeysetPage,
    OrderRepository,
    SortValue,
)
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, FullName, RawPassword, Role, Username


@dataclass(frozen=True, slots=True)
class NewUser:
    """An account not yet stored; the repository gives it an id and version 1."""

    email: Email
    username: Username
    full_name: FullName | None
    role: Role
    is_active: bool
    password_hash: str = field(repr=False)
    created_at: datetime
    email_verified: bool = False


@dataclass(frozen=True, slots=True)
class NewSession:
    user_id: int
    created_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A stored refresh token, known only by its fingerprint."""

    session_id: int
    expires_at: datetime
    spent_at: datetime | None


class UserSortField(StrEnum):
    ID = "id"
    CREATED_AT = "created_at"
    USERNAME = "username"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class UserFilter:
    role: Role | None = None
    is_active: bool | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class UserPageQuery:
    """A numbered page: `page` ≥ 1, `page_size` 1–100; ties always broken by id."""

    filter: UserFilter
    sort: UserSortField = UserSortField.ID
    descending: bool = False
    page: int = 1
    page_size: int = 50


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int


@dataclass(frozen=True, slots=True)
class UserKeysetQuery:
    """A cursor page: up to `limit` items strictly after `after` in (sort, id) order."""

    filter: UserFilter
    sort: UserSortField = UserSortField.ID
    descending: bool = False
    limit: int = 50
    after: After | None = None


def user_sort_value(user: User, sort: UserSortField) -> SortValue:
    """The value a user sorts by: text keys lower-cased, as the queries compare them."""
    if sort is UserSortField.USERNAME:
        return user.username.canonical
    if sort is UserSortField.EMAIL:
        return user.email.value
    if sort is UserSortField.CREATED_AT:
        return user.created_at
    return user.id


# The columns of an account that `UserRepository.update` can write.
USER_FIELDS = ("email", "username", "full_name", "role", "is_active", "email_verified")


class UserRepository(Protocol):
    """Accounts inside a unit of work; every method sees that transaction."""

    async def add(self, new: NewUser) -> User: ...

    async def get(self, user_id: int) -> User | None: ...

    async def lock(self, user_id: int, *, exclusive: bool = False) -> User | None:
        """The account, locked against credential changes until the transaction ends (shared, or
        exclusive when the caller will write it), so a check of its password hash holds at commit."""
        ...

    async def get_by_email(self, email: Email) -> User | None: ...

    async def get_by_username(self, username: Username) -> User | None: ...

    async def update(
        self, user: User, *, fields: Collection[str], expected_versions: Sequence[int] | None
    ) -> User:
        """Store `fields` of `user` (and its `updated_at`) as version + 1; returns the stored account.

        Only the named fields are written, so two changes of different fields that run at once
        both stay (without `If-Match`, a whole-row write would silently undo the other).
        Raises `PreconditionFailedError` when `expected_versions` is given and the stored
        version is not among them (checked in the UPDATE itself), `NotFoundError` when
        the row is gone, `ConflictError` on a taken email or username.
        """
        ...

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the hash; the version and `updated_at` stay, as the representation does not change."""
        ...

    async def delete(self, user_id: int, *, expected_versions: Sequence[int] | None) -> None: ...

    async def count_active_admins(self) -> int:
        """Count active admins, locking them against a concurrent demotion where the engine can."""
        ...


class SessionRepository(Protocol):
    """Sessions and their refresh tokens inside a unit of work."""

    async def add(self, new: NewSession) -> Session: ...

    async def get(self, session_id: int) -> Session | None: ...

    async def add_refresh_token(self, session_id: int, fingerprint: str, expires_at: datetime) -> None: ...

    async def find_refresh_token(self, fingerprint: str) -> RefreshRecord | None: ...

    async def spend_refresh_token(self, fingerprint: str, now: datetime) -> bool:
        """Mark it spent; False when it already was (so two racing refreshes can't both win)."""
        ...

    async def touch(self, session_id: int, now: datetime, expires_at: datetime) -> None: ...

    async def revoke(self, session_id: int, now: datetime) -> bool: ...

    async def revoke_all(self, user_id: int, now: datetime) -> int: ...


class UnitOfWork(Protocol):
    """One transaction: nothing persists unless `commit()` is awaited inside the block."""

    users: UserRepository
    sessions: SessionRepository
    orders: OrderRepository
    idempotency: IdempotencyRepository
    audit: AuditTrail
    outbox: MailOutbox
    account_tokens: AccountTokenRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UserQueries(Protocol):
    """Read-only look-ups outside any write transaction: the hot read path."""

    async def get(self, user_id: int) -> User | None: ...

    async def find_for_login(self, identifier: str) -> User | None:
        """The account whose email or username (lower-cased) equals `identifier`."""
        ...

    async def page(self, query: UserPageQuery) -> Page[User]: ...

    async def keyset(self, query: UserKeysetQuery) -> KeysetPage[User]: ...

    async def find_actor(self, *, session_id: int, user_id: int, now: datetime) -> Actor | None:
        """The actor of a live session of an active user, in one round trip."""
        ...

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        """The active user behind a live session of theirs, in one round trip (session ⋈ user)."""
        ...


class SessionQueries(Protocol):
    """Read-only look-ups of sessions, outside any write transaction."""

    async def list_live(self, user_id: int, now: datetime) -> Sequence[Session]:
        """The user's live sessions, newest first."""
        ...


class PasswordHasher(Protocol):
    """Hashing and verification, run off the event loop in a bounded pool.

    Raises `ServiceUnavailableError` when the pool's queue is full.
    """

    async def hash(self, password: RawPassword) -> str: ...

    async def verify(self, password_hash: str, password: RawPassword) -> bool: ...

    async def verify_dummy(self, password: RawPassword) -> None:
        """Spend the time of one verification, for accounts that don't exist."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int


class TokenIssuer(Protocol):
    """Access tokens (signed, short-lived) and refresh tokens (opaque, stored as fingerprints)."""

    access_ttl: int
    refresh_ttl: int

    def issue_access(self, *, user_id: int, session_id: int, now: datetime) -> str: ...

    def read_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token, else `AuthenticationError`."""
        ...

    def new_opaque_token(self) -> str: ...

    def fingerprint(self, opaque_token: str) -> str: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
