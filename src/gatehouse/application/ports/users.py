"""Accounts: the repository inside a unit of work, the read-side queries and their filters."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from gatehouse.application.ports.paging import After, KeysetPage, Page, SortValue
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, FullName, Role, Username


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


@dataclass(frozen=True, slots=True)
class UserKeysetQuery:
    """A cursor page: up to `limit` items strictly after `after` in (sort, id) order."""

    filter: UserFilter
    sort: UserSortField = UserSortField.ID
    descending: bool = False
    limit: int = 50
    after: After | None = None

    def scope(self) -> str:
        role = self.filter.role.value if self.filter.role is not None else None
        sort = f"{'-' if self.descending else ''}{self.sort.value}"
        return f"users|{role}|{self.filter.is_active}|{self.filter.search}|{sort}"


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
USER_FIELDS = ("email", "username", "full_name", "role", "is_active", "email_verified", "mfa_enabled")


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


class UserQueries(Protocol):
    """Read-only look-ups outside any write transaction: the hot read path."""

    async def get(self, user_id: int) -> User | None: ...

    async def find_for_login(self, identifier: str) -> User | None:
        """The account whose email or username (lower-cased) equals `identifier`."""
        ...

    async def page(self, query: UserPageQuery) -> Page[User]: ...

    async def keyset(self, query: UserKeysetQuery) -> KeysetPage[User]: ...

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        """The active user behind a live session of theirs, in one round trip (session ⋈ user)."""
        ...
