"""The in-memory database's tables (plain dicts, deep-copied per unit of work) and what readers need of it."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gatehouse.application.ports.api_tokens import ApiToken
from gatehouse.application.ports.audit import AuditEvent
from gatehouse.application.ports.credentials import AccountToken
from gatehouse.application.ports.idempotency import IdempotencyRecord
from gatehouse.application.ports.mfa import MfaChallenge, MfaEnrolment
from gatehouse.application.ports.sessions import RefreshRecord
from gatehouse.domain.order import Order
from gatehouse.domain.user import Session, User


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
