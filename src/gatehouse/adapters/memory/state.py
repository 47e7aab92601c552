"""The in-memory database's tables (plain dicts, deep-copied per unit of work) and what readers need of it."""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gatehouse.application.errors import NotFoundError, PreconditionFailedError
from gatehouse.application.ports.api_tokens import ApiToken
from gatehouse.application.ports.audit import AuditEvent
from gatehouse.application.ports.credentials import AccountToken
from gatehouse.application.ports.idempotency import IdempotencyRecord
from gatehouse.application.ports.mfa import MfaChallenge, MfaEnrolment
from gatehouse.application.ports.sessions import RefreshRecord
from gatehouse.domain.order import Order
from gatehouse.domain.user import Session, User

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D")
R = TypeVar("R", bound="DataclassInstance")


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


@dataclass
class StoredMail:
    recipient: str
    subject: str
    body: str = field(repr=False)
    status: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None


@dataclass
class StoredApiToken:
    token: ApiToken
    digest: str


@dataclass
class MemoryState:
    users: dict[int, User] = field(default_factory=dict)
    sessions: dict[int, Session] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)
    audit_events: dict[int, AuditEvent] = field(default_factory=dict)
    mails: dict[int, "StoredMail"] = field(default_factory=dict)
    account_tokens: dict[str, AccountToken] = field(default_factory=dict)  # by fingerprint
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # name: (holder, until)
    mfa_enrolments: dict[int, MfaEnrolment] = field(default_factory=dict)  # by user id
    recovery_codes: dict[int, dict[str, datetime | None]] = field(default_factory=dict)  # user: digest: used
    mfa_challenges: dict[str, MfaChallenge] = field(default_factory=dict)  # by fingerprint
    api_tokens: dict[int, StoredApiToken] = field(default_factory=dict)  # by id

    def new_id(self, table: str) -> int:
        self.next_id[table] = self.next_id.get(table, 0) + 1
        return self.next_id[table]


class HasState(Protocol):
    """What the read side, the mail queue and housekeeping need of `InMemoryDatabase` (a protocol,
    so that they need not import the units of work's module, which imports theirs).

    They write the committed state under the writer lock, as a unit of work does: a unit of
    work open meanwhile would otherwise publish its older copy over their changes."""

    state: MemoryState
    writer: asyncio.Lock


class OverState:
    """The base of a twin that works inside a unit of work, on its draft of the state."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state


class OverDatabase:
    """The base of a twin that works on the committed state, each call a transaction of its own."""

    def __init__(self, database: HasState) -> None:
        self._db = database


def built_from(kind: type[D], new: object, **given: Any) -> D:
    """A new row as the dataclass `kind`: the fields of `new` that `kind` has, by name (as the
    SQLAlchemy side's `from_row` maps a row), and `given` (the id, and what a new row starts with)."""
    names = {f.name for f in fields(kind) if f.init and f.name not in given}  # type: ignore[arg-type]
    copied = {f.name: getattr(new, f.name) for f in fields(new) if f.name in names}  # type: ignore[arg-type]
    return kind(**copied, **given)


def copy_of(table: Mapping[int, R], key: int) -> R | None:
    """A copy of the row at `key` (what a caller is given, it may change), or None."""
    row = table.get(key)
    return replace(row) if row is not None else None


def checked(table: Mapping[int, V], key: int, expected_versions: Sequence[int] | None, noun: str) -> V:
    """The row at `key` that a change or a delete is about: 404 when there is none, 412 when
    `expected_versions` (the `If-Match` versions) are given and do not name its version."""
    stored = table.get(key)
    if stored is None:
        raise NotFoundError(f"{noun} with id {key} not found")
    if expected_versions is not None and stored.version not in expected_versions:
        raise PreconditionFailedError("The resource has changed since it was read")
    return stored
