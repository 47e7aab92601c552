"""The account entity and the session it signs in with."""

from dataclasses import dataclass, replace
from datetime import datetime

from gatehouse.domain.values import Email, FullName, Role, Username


@dataclass(kw_only=True, eq=False, slots=True)
class User:
    """An account. `version` grows with every change and backs the HTTP ETag."""

    id: int
    email: Email
    username: Username
    full_name: FullName | None
    role: Role
    is_active: bool
    password_hash: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    email_verified: bool = False
    mfa_enabled: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_active_admin(self) -> bool:
        return self.is_active and self.role is Role.ADMIN

    def changed(self, now: datetime, **fields: object) -> "User":
        """A copy with `fields` replaced and `updated_at` moved to `now`."""
        return replace(self, updated_at=now, **fields)  # type: ignore[arg-type]


@dataclass(kw_only=True, eq=False)
class Session:
    """One sign-in: lives from log-in until log-out, revocation or refresh expiry."""

    id: int
    user_id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None = None
    user_agent: str | None = None
    revoked_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Session) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
