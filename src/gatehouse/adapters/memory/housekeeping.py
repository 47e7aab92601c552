"""In-memory twins of housekeeping and the task lease, over the committed state of an `InMemoryDatabase`."""

from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import TypeVar

from gatehouse.adapters.memory.state import OverDatabase, StoredApiToken, StoredMail
from gatehouse.application.ports.credentials import AccountToken
from gatehouse.application.ports.housekeeping import Housekeeping, TaskLease
from gatehouse.application.ports.mfa import MfaChallenge
from gatehouse.domain.user import Session

K = TypeVar("K")
V = TypeVar("V")


def _ended(session: Session, before: datetime) -> bool:
    return (session.revoked_at is not None and session.revoked_at < before) or session.expires_at < before


def _token_spent(token: AccountToken, before: datetime) -> bool:
    return (token.used_at is not None and token.used_at < before) or token.expires_at < before


def _challenge_ended(challenge: MfaChallenge, before: datetime) -> bool:
    return (challenge.used_at is not None and challenge.used_at < before) or challenge.expires_at < before


def _mail_finished(mail: StoredMail, before: datetime) -> bool:
    if mail.status == "sent":
        return mail.sent_at is not None and mail.sent_at < before
    return mail.status in ("dead", "suppressed") and mail.created_at < before


def _delete_some(rows: MutableMapping[K, V], doomed: Callable[[V], bool], limit: int) -> list[K]:
    keys = [key for key, row in rows.items() if doomed(row)][:limit]
    for key in keys:
        del rows[key]
    return keys


class InMemoryHousekeeping(OverDatabase, Housekeeping):
    """Each call works under the writer lock, as a transaction of its own would."""

    async def delete_refresh_tokens_of_ended_sessions(self, *, ended_before: datetime, limit: int) -> int:
        async with self._db.writer:
            s = self._db.state

            def of_ended_session(session_id: int) -> bool:
                session = s.sessions.get(session_id)
                return session is not None and _ended(session, ended_before)

            return len(_delete_some(s.refresh_tokens, lambda r: of_ended_session(r.session_id), limit))

    async def delete_ended_sessions(self, *, ended_before: datetime, limit: int) -> int:
        async with self._db.writer:
            s = self._db.state
            gone = set(_delete_some(s.sessions, lambda session: _ended(session, ended_before), limit))
            # The foreign key's ON DELETE CASCADE: a token left behind goes with its session.
            _delete_some(s.refresh_tokens, lambda r: r.session_id in gone, len(s.refresh_tokens))
            return len(gone)

    async def delete_spent_account_tokens(self, *, ended_before: datetime, limit: int) -> int:
        async with self._db.writer:
            tokens = self._db.state.account_tokens
            return len(_delete_some(tokens, lambda t: _token_spent(t, ended_before), limit))

    async def delete_ended_mfa_challenges(self, *, ended_before: datetime, limit: int) -> int:
        async with self._db.writer:
            challenges = self._db.state.mfa_challenges
            return len(_delete_some(challenges, lambda c: _challenge_ended(c, ended_before), limit))

    async def delete_ended_api_tokens(
        self, *, revoked_before: datetime, expired_before: datetime, limit: int
    ) -> int:
        def ended(stored: StoredApiToken) -> bool:
            revoked = stored.token.revoked_at
            return (
                revoked is not None and revoked < revoked_before
            ) or stored.token.expires_at < expired_before

        async with self._db.writer:
            return len(_delete_some(self._db.state.api_tokens, ended, limit))

    async def delete_idempotency_records(self, *, started_before: datetime, limit: int) -> int:
        async with self._db.writer:
            records = self._db.state.idempotency
            return len(_delete_some(records, lambda r: r.started_at < started_before, limit))

    async def delete_finished_mail(self, *, finished_before: datetime, limit: int) -> int:
        async with self._db.writer:
            mails = self._db.state.mails
            return len(_delete_some(mails, lambda m: _mail_finished(m, finished_before), limit))


class InMemoryTaskLease(OverDatabase, TaskLease):
    async def acquire(self, name: str, *, holder: str, now: datetime, until: datetime) -> bool:
        async with self._db.writer:
            held = self._db.state.leases.get(name)
            if held is not None and held[1] > now:
                return False
            self._db.state.leases[name] = (holder, until)
            return True
