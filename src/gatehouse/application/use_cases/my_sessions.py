"""See and end sessions: one's own, or (for an admin) every session of an account."""

from collections.abc import Sequence
from dataclasses import dataclass

from gatehouse.application.audit_log import record
from gatehouse.application.errors import NotFoundError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.sessions import SessionQueries
from gatehouse.application.use_cases import OverUnitOfWork
from gatehouse.application.use_cases.update_user import load_visible
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import Session


@dataclass(frozen=True, slots=True)
class SessionView:
    session: Session
    current: bool


@dataclass(frozen=True, slots=True)
class ListMySessions:
    """The caller's live sessions, newest first, with the one making the request marked current."""

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor

    queries: SessionQueries
    clock: Clock

    async def execute(self, query: Query) -> Sequence[SessionView]:
        query.actor.require_session("manage sessions")
        actor = query.actor
        live = await self.queries.list_live(actor.user_id, self.clock.now())
        return [SessionView(s, s.id == actor.session_id) for s in live]


class RevokeMySession(OverUnitOfWork):
    """End one of the caller's sessions: its access and refresh tokens stop working.

    - A session that is not the caller's, or no longer live: 404.
    - `session.revoked` is recorded.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        session_id: int

    async def execute(self, command: Command) -> None:
        command.actor.require_session("manage sessions")
        actor, session_id = command.actor, command.session_id
        now = self.clock.now()
        async with self.uow as uow:
            session = await uow.sessions.get(session_id)
            if session is None or session.user_id != actor.user_id or not session.is_live(now):
                raise NotFoundError(f"Session with id {session_id} not found")
            await uow.sessions.revoke(session.id, now)
            details = {"session_id": session.id, "current": session.id == actor.session_id}
            await record(
                uow, AuditAction.SESSION_REVOKED, at=now, user_id=actor.user_id, actor=actor, details=details
            )
            await uow.commit()


class RevokeAllSessions(OverUnitOfWork):
    """Sign an account out everywhere.

    - Admins only: a moderator or user gets 403 (a plain user also for ids not their own,
      whether or not they exist); an unknown id is 404 for those who may read other accounts.
    - `session.revoked` is recorded with the number of sessions ended.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int

    async def execute(self, command: Command) -> None:
        command.actor.require_session("manage sessions")
        actor = command.actor
        now = self.clock.now()
        async with self.uow as uow:
            user = await load_visible(uow, actor, command.user_id)
            if not actor.is_admin:
                raise PermissionDeniedError("Only an admin may end another account's sessions")
            ended = await uow.sessions.revoke_all(user.id, now)
            details = {"all": True, "sessions_ended": ended}
            await record(
                uow, AuditAction.SESSION_REVOKED, at=now, user_id=user.id, actor=actor, details=details
            )
            await uow.commit()
