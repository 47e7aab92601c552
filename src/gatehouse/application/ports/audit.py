"""The audit trail: the actions, where a request came from, the events and their queries."""

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from gatehouse.application.ports.paging import After, KeysetPage


class AuditAction(StrEnum):
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_DELETED = "user.deleted"
    LOGIN_SUCCEEDED = "auth.login_succeeded"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    REFRESH_REUSE_DETECTED = "auth.refresh_reuse_detected"
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an action name
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"  # noqa: S105
    PASSWORD_RESET = "auth.password_reset"  # noqa: S105
    EMAIL_VERIFIED = "auth.email_verified"
    MFA_ENABLED = "auth.mfa_enabled"
    MFA_DISABLED = "auth.mfa_disabled"
    MFA_FAILED = "auth.mfa_failed"
    RECOVERY_CODE_USED = "auth.recovery_code_used"
    RECOVERY_CODES_RENEWED = "auth.recovery_codes_renewed"
    SESSION_REVOKED = "session.revoked"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_DELETED = "order.deleted"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the current request came from: stamped on every audit event."""

    ip: str | None = None
    request_id: str | None = None


class OriginSource(Protocol):
    def current(self) -> Origin: ...


class OriginScope(OriginSource, Protocol):
    """The drivers' side: each request's (or command's) origin is current while it runs."""

    def binding(self, origin: Origin) -> AbstractContextManager[None]:
        """`origin` is current inside the `with` block, and the one before it after."""
        ...


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    """`details` never hold a password, a hash or a token."""

    at: datetime
    action: AuditAction
    user_id: int | None
    actor_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def stored_fields(self, origin: Origin) -> dict[str, Any]:
        """This event as the trail stores it, stamped with the request's `origin`."""
        return {
            "at": self.at,
            "action": self.action.value,
            "actor_id": self.actor_id,
            "user_id": self.user_id,
            "ip": origin.ip,
            "request_id": origin.request_id,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    action: str
    actor_id: int | None
    user_id: int | None
    ip: str | None
    request_id: str | None
    details: Mapping[str, Any]


class AuditTrail(Protocol):
    """Events written inside a unit of work: no change without its event, no event without its change."""

    async def record(self, event: NewAuditEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A cursor page, newest first: up to `limit` events with an id below `after`'s, matching every
    filter given (`since`: at or after it)."""

    limit: int = 50
    after: After | None = None
    action: AuditAction | None = None
    user_id: int | None = None
    since: datetime | None = None

    def scope(self) -> str:
        action = self.action.value if self.action is not None else None
        since = self.since.isoformat() if self.since is not None else None
        return f"audit|{action}|{self.user_id}|{since}"


class AuditQueries(Protocol):
    async def keyset(self, query: AuditQuery) -> KeysetPage[AuditEvent]: ...

    async def prune(self, before: datetime) -> int:
        """Delete events older than `before`; the number deleted."""
        ...
