"""The audit writer: one event per change, in the change's own unit of work."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gatehouse.application.ports.audit import AuditAction, NewAuditEvent
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.domain.policy import Actor


def actor_id_of(actor: Actor | None) -> int | None:
    """The signed-in user behind a change; None for anonymous callers and the CLI operator."""
    return actor.user_id if actor is not None and not actor.is_operator else None


async def record(
    uow: UnitOfWork,
    action: AuditAction,
    *,
    at: datetime,
    user_id: int | None,
    actor: Actor | None = None,
    actor_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Write one audit event in `uow`; `details` must never hold a password, a hash or a token."""
    who = actor_id if actor_id is not None else actor_id_of(actor)
    await uow.audit.record(
        NewAuditEvent(at=at, action=action, user_id=user_id, actor_id=who, details=dict(details or {}))
    )
