"""The shapes of the account-lifecycle routes: verification, password reset, sessions, audit events."""

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from gatehouse.application.ports.audit import AuditEvent
from gatehouse.application.use_cases.my_sessions import SessionView
from gatehouse.entrypoints.http.schemas import EmailText, NewPasswordText, Strict

TokenText = Annotated[str, Meta(min_length=1, max_length=512, description="The token from the mail's link")]


class VerifyEmailIn(Strict):
    token: TokenText


class EmailIn(Strict):
    email: EmailText


class PasswordResetConfirmIn(Strict):
    token: TokenText
    new_password: NewPasswordText


class AcceptedOut(msgspec.Struct):
    """The same body whatever the outcome, so it reveals nothing about the account."""

    status: str
    message: str


class SessionOut(msgspec.Struct):
    id: int
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class SessionListOut(msgspec.Struct):
    items: list[SessionOut]


class AuditEventOut(msgspec.Struct):
    id: int
    at: datetime
    action: str
    actor_id: int | None
    user_id: int | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditPageOut(msgspec.Struct):
    items: list[AuditEventOut]
    next_cursor: str | None


def session_out(view: SessionView) -> SessionOut:
    s = view.session
    return SessionOut(
        id=s.id,
        created_at=s.created_at,
        last_used_at=s.last_used_at,
        ip=s.ip,
        user_agent=s.user_agent,
        current=view.current,
    )


def audit_event_out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=event.id,
        at=event.at,
        action=event.action,
        actor_id=event.actor_id,
        user_id=event.user_id,
        ip=event.ip,
        request_id=event.request_id,
        details=dict(event.details),
    )
