"""Small explicit mappings between rows and domain objects.

A user row is mapped in one place, `_user`, whatever shape it arrives in: a SQLAlchemy row or a
mapping (read by column name), or a raw driver row of a hot-path statement (read by position).
Both readers and the hot-path statements are built from one list, `USER_COLUMNS`.
"""

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Column

from gatehouse.adapters.sqlalchemy.tables import users
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, FullName, Role, Username

# The columns a user is mapped from, in the order `_user` unpacks them. The hot-path statements
# select `USER_SELECT` (these columns in this order), so a driver row's positions follow from it.
USER_COLUMNS = (
    "id",
    "email",
    "username",
    "full_name",
    "role",
    "is_active",
    "password_hash",
    "created_at",
    "updated_at",
    "version",
    "email_verified",
    "mfa_enabled",
)
USER_SELECT: tuple[Column[Any], ...] = tuple(users.c[name] for name in USER_COLUMNS)
_by_name = itemgetter(*USER_COLUMNS)
_by_position = itemgetter(*range(len(USER_COLUMNS)))  # a page row has its total after them

V = TypeVar("V", Email, Username, FullName)
_new = object.__new__
_SET_VALUE: dict[type[Any], Callable[[Any, str], None]] = {
    kind: kind.__dict__["value"].__set__ for kind in (Email, Username, FullName)
}
D = TypeVar("D")
ROLES = {role.value: role for role in Role}


def stored(kind: type[V], value: str) -> V:
    """A value object read back from our own table: it was validated when it was written, so
    the check is not repeated (50 rows a page × 3 regexes is a fifth of a page's CPU). The
    frozen class's slot is set through its descriptor, as its own `__init__` would."""
    obj = _new(kind)
    _SET_VALUE[kind](obj, value)
    return obj


def _checked(kind: type[V], value: str) -> V:
    return kind(value)


def _user(values: Sequence[Any], *, trusted: bool, moment: Callable[[Any], datetime] | None = None) -> User:
    """The one mapping of a user row: `values` in `USER_COLUMNS` order. `trusted` skips validating
    the value objects again (the hot paths); `moment` turns a driver's timestamp into an aware one."""
    (
        id_,
        email,
        username,
        full_name,
        role,
        is_active,
        password_hash,
        created,
        updated,
        version,
        verified,
        mfa,
    ) = values
    text = stored if trusted else _checked
    if moment is not None:
        created, updated = moment(created), moment(updated)
    return User(
        id=id_,
        email=text(Email, email),
        username=text(Username, username),
        full_name=text(FullName, full_name) if full_name is not None else None,
        role=ROLES[role] if trusted else Role(role),
        is_active=bool(is_active),
        password_hash=password_hash,
        created_at=created,
        updated_at=updated,
        version=version,
        email_verified=bool(verified),
        mfa_enabled=bool(mfa),
    )


def to_user(row: Any) -> User:
    """A `users` row (a Row or a mapping with the same keys) as a `User`, its values checked again."""
    m = row._mapping if hasattr(row, "_mapping") else row
    return _user(_by_name(m), trusted=False)


def user_from_driver_row(row: Sequence[Any], moment: Callable[[Any], datetime] | None = None) -> User:
    """A raw driver row of a statement that selects `USER_SELECT` first (the hot paths)."""
    return _user(_by_position(row), trusted=True, moment=moment)


def user_values(user: User) -> dict[str, Any]:
    """The editable columns of a `User`."""
    return {
        "email": user.email.value,
        "username": user.username.value,
        "full_name": user.full_name.value if user.full_name else None,
        "role": user.role.value,
        "is_active": user.is_active,
        "email_verified": user.email_verified,
        "mfa_enabled": user.mfa_enabled,
        "updated_at": user.updated_at,
    }


def from_row(kind: type[D], row: Any, **converted: Any) -> D:
    """A row as the dataclass `kind`, each field from the column of its name; `converted` gives the
    fields whose stored form differs (an enum's value, a memoryview of bytes, a NULL for empty)."""
    m = row._mapping
    names = [f.name for f in fields(kind)]  # type: ignore[arg-type]  # `kind` is a dataclass
    return kind(**{name: m[name] for name in names if name not in converted}, **converted)


def to_session(row: Any) -> Session:
    return from_row(Session, row)
