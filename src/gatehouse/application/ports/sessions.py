"""Sessions and their refresh tokens."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gatehouse.domain.user import Session


@dataclass(frozen=True, slots=True)
class NewSession:
    user_id: int
    created_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A stored refresh token, known only by its fingerprint."""

    session_id: int
    expires_at: datetime
    spent_at: datetime | None


class SessionRepository(Protocol):
    """Sessions and their refresh tokens inside a unit of work."""

    async def add(self, new: NewSession) -> Session: ...

    async def get(self, session_id: int) -> Session | None: ...

    async def add_refresh_token(self, session_id: int, fingerprint: str, expires_at: datetime) -> None: ...

    async def find_refresh_token(self, fingerprint: str) -> RefreshRecord | None: ...

    async def spend_refresh_token(self, fingerprint: str, now: datetime) -> bool:
        """Mark it spent; False when it already was (so two racing refreshes can't both win)."""
        ...

    async def touch(self, session_id: int, now: datetime, expires_at: datetime) -> None: ...

    async def revoke(self, session_id: int, now: datetime) -> bool: ...

    async def revoke_all(self, user_id: int, now: datetime) -> int: ...


class SessionQueries(Protocol):
    """Read-only look-ups of sessions, outside any write transaction."""

    async def list_live(self, user_id: int, now: datetime) -> Sequence[Session]:
        """The user's live sessions, newest first."""
        ...
