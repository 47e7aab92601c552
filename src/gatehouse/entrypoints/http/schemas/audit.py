"""The shapes of the audit trail (`/audit-events`): an event and a cursor page of them."""

from datetime import datetime
from typing import Any

import msgspec

from gatehouse.application.ports.audit import AuditEvent


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
