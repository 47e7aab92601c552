"""The shapes of one's own sessions (`/users/me/sessions`)."""

from datetime import datetime

import msgspec

from gatehouse.application.use_cases.my_sessions import SessionView


class SessionOut(msgspec.Struct):
    id: int
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class SessionListOut(msgspec.Struct):
    items: list[SessionOut]


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
