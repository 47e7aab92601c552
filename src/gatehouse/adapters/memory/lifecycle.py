"""In-memory twins of the lifecycle adapters: audit trail, outbox, mail queue, one-time tokens."""

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from gatehouse.adapters.memory.state import MemoryState, StoredMail
from gatehouse.application.ports.audit import (
    AuditEvent,
    AuditQueries,
    AuditQuery,
    AuditTrail,
    NewAuditEvent,
    Origin,
    OriginSource,
)
from gatehouse.application.ports.credentials import AccountToken, AccountTokenRepository, TokenPurpose
from gatehouse.application.ports.mail import MailMessage, MailOutbox, MailQueue, PendingMail
from gatehouse.application.ports.paging import After, KeysetPage
from gatehouse.application.ports.sessions import SessionQueries
from gatehouse.domain.user import Session


class HasState(Protocol):
    """What the queue and queries need of `InMemoryDatabase` (named here to avoid an import cycle).

    They write the committed state under the writer lock, as a unit of work does: a unit of
    work open meanwhile would otherwise publish its older copy over their changes."""

    state: MemoryState
    writer: asyncio.Lock


class FixedOrigin(OriginSource):
    def __init__(self, origin: Origin | None = None) -> None:
        self.origin = origin or Origin()

    def current(self) -> Origin:
        return self.origin


class InMemoryAuditTrail(AuditTrail):
    def __init__(self, state: MemoryState, origin: OriginSource | None) -> None:
        self._s = state
        self._origin = origin or FixedOrigin()

    async def record(self, event: NewAuditEvent) -> None:
        origin = self._origin.current()
        event_id = self._s.new_id("audit_events")
        self._s.audit_events[event_id] = AuditEvent(
            id=event_id,
            at=event.at,
            action=event.action.value,
            actor_id=event.actor_id,
            user_id=event.user_id,
            ip=origin.ip,
            request_id=origin.request_id,
            details=dict(event.details),
        )


class InMemoryMailOutbox(MailOutbox):
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def add(self, message: MailMessage, *, now: datetime, deliver: bool = True) -> None:
        self._s.mails[self._s.new_id("mails")] = StoredMail(
            recipient=message.recipient,
            subject=message.subject,
            body=message.body if deliver else "",
            status="pending" if deliver else "suppressed",
            created_at=now,
            next_attempt_at=now,
        )


class InMemoryAccountTokenRepository(AccountTokenRepository):
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    async def issue(
        self,
        *,
        purpose: TokenPurpose,
        user_id: int | None,
        email: str,
        fingerprint: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        if user_id is not None:
            await self.revoke_all(purpose, user_id, now)
        self._s.account_tokens[fingerprint] = AccountToken(
            id=self._s.new_id("account_tokens"),
            purpose=purpose,
            user_id=user_id,
            email=email,
            created_at=now,
            expires_at=expires_at,
            used_at=None,
        )

    async def find(self, purpose: TokenPurpose, fingerprint: str) -> AccountToken | None:
        token = self._s.account_tokens.get(fingerprint)
        if token is None or token.purpose is not purpose:
            return None
        if token.user_id is not None and token.user_id not in self._s.users:
            return None  # the account is gone, and its tokens with it (ON DELETE CASCADE)
        return token

    async def spend(self, token_id: int, now: datetime) -> bool:
        for fingerprint, token in self._s.account_tokens.items():
            gone = token.user_id is not None and token.user_id not in self._s.users
            if token.id == token_id and token.used_at is None and not gone:
                self._s.account_tokens[fingerprint] = replace(token, used_at=now)
                return True
        return False

    async def revoke_all(self, purpose: TokenPurpose, user_id: int, now: datetime) -> None:
        for fingerprint, token in list(self._s.account_tokens.items()):
            if token.user_id == user_id and token.purpose is purpose and token.used_at is None:
                self._s.account_tokens[fingerprint] = replace(token, used_at=now)


class InMemoryMailQueue(MailQueue):
    """Works on the committed state of an `InMemoryDatabase` (each call is its own transaction)."""

    def __init__(self, database: HasState) -> None:
        self._db = database

    async def has_due(self, now: datetime) -> bool:
        return any(m.status == "pending" and m.next_attempt_at <= now for m in self._db.state.mails.values())

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[PendingMail]:
        async with self._db.writer:
            return self._claim(now, lease_until, limit)

    def _claim(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[PendingMail]:
        due = sorted(
            (
                mid
                for mid, m in self._db.state.mails.items()
                if m.status == "pending" and m.next_attempt_at <= now
            ),
            key=lambda mid: (self._db.state.mails[mid].next_attempt_at, mid),
        )[:limit]
        claimed = []
        for mid in due:
            mail = self._db.state.mails[mid]
            mail.attempts += 1
            mail.next_attempt_at = lease_until
            message = MailMessage(recipient=mail.recipient, subject=mail.subject, body=mail.body)
            claimed.append(
                PendingMail(id=mid, message=message, created_at=mail.created_at, attempts=mail.attempts)
            )
        return claimed

    async def mark_sent(self, mail_id: int, now: datetime) -> None:
        async with self._db.writer:
            mail = self._db.state.mails[mail_id]
            mail.status, mail.sent_at, mail.body, mail.last_error = "sent", now, "", None

    async def retry_later(self, mail_id: int, *, retry_at: datetime, error: str) -> None:
        async with self._db.writer:
            mail = self._db.state.mails[mail_id]
            mail.next_attempt_at, mail.last_error = retry_at, error[:500]

    async def give_up(self, *, created_before: datetime, now: datetime) -> int:
        async with self._db.writer:
            return self._give_up(created_before)

    def _give_up(self, created_before: datetime) -> int:
        stale = [
            m
            for m in self._db.state.mails.values()
            if m.status == "pending" and m.created_at < created_before
        ]
        for mail in stale:
            mail.status, mail.body = "dead", ""
        return len(stale)

    async def depth(self) -> int:
        return sum(1 for m in self._db.state.mails.values() if m.status == "pending")


class InMemoryAuditQueries(AuditQueries):
    def __init__(self, database: HasState) -> None:
        self._db = database

    async def keyset(self, query: AuditQuery) -> KeysetPage[AuditEvent]:
        found = [
            e
            for e in sorted(self._db.state.audit_events.values(), key=lambda e: e.id, reverse=True)
            if (query.after is None or e.id < query.after.id)
            and (query.action is None or e.action == query.action.value)
            and (query.user_id is None or e.user_id == query.user_id)
            and (query.since is None or e.at >= query.since)
        ]
        page = found[: query.limit]
        more = len(found) > query.limit and page
        return KeysetPage(page, After(page[-1].id, page[-1].id) if more else None)

    async def prune(self, before: datetime) -> int:
        async with self._db.writer:
            return self._prune(before)

    def _prune(self, before: datetime) -> int:
        old = [eid for eid, e in self._db.state.audit_events.items() if e.at < before]
        for eid in old:
            del self._db.state.audit_events[eid]
        return len(old)


class InMemorySessionQueries(SessionQueries):
    def __init__(self, database: HasState) -> None:
        self._db = database

    async def list_live(self, user_id: int, now: datetime) -> Sequence[Session]:
        live = [s for s in self._db.state.sessions.values() if s.user_id == user_id and s.is_live(now)]
        return [replace(s) for s in sorted(live, key=lambda s: (s.created_at, s.id), reverse=True)]
