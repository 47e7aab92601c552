"""Personal API tokens (CONTRACT §13): stored by the SHA-256 digest of the secret, never the secret."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gatehouse.domain.scopes import Scope
from gatehouse.domain.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class NewApiToken:
    user_id: int
    name: str
    scopes: frozenset[Scope]
    digest: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """A token as listed: everything but its secret."""

    id: int
    user_id: int
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class TokenPrincipal:
    """The active account behind a live API token, and the token: one look-up on every request."""

    user: User
    token: ApiToken


class ApiTokenRepository(Protocol):
    """API tokens inside a unit of work. Rows of a deleted account go with it."""

    async def add(self, new: NewApiToken) -> ApiToken: ...

    async def get(self, token_id: int) -> ApiToken | None:
        """The token, revoked or not."""
        ...

    async def list_unrevoked(self, user_id: int | None) -> Sequence[ApiToken]:
        """The tokens not revoked (expired ones included) of `user_id`, or of everyone; oldest first."""
        ...

    async def count_live(self, user_id: int, now: datetime) -> int: ...

    async def revoke(self, token_id: int, now: datetime) -> bool:
        """False when it was already revoked (or never was)."""
        ...

    async def revoke_all(self, user_id: int, now: datetime) -> int:
        """Revoke every unrevoked token of the account; how many."""
        ...


class ApiTokenQueries(Protocol):
    """The read path of a request that brings an API token (outside any unit of work)."""

    async def find_token_principal(self, digest: str, now: datetime) -> TokenPrincipal | None:
        """The live token with this digest and its active owner, in one indexed round trip."""
        ...

    async def mark_token_used(self, token_id: int, now: datetime, *, unless_since: datetime) -> None:
        """Set `last_used_at` to `now` unless it is already at or after `unless_since`: at most one
        write a minute per token, whichever worker wins (best effort: never raises)."""
        ...
