"""In-memory twin of the API-token repository."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from gatehouse.adapters.memory.state import MemoryState, OverState, StoredApiToken, built_from
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.api_tokens import ApiToken, ApiTokenRepository, NewApiToken


@dataclass
class _Live:
    state: MemoryState

    def tokens(self) -> list[StoredApiToken]:
        """The stored tokens whose owner still exists (the table's ON DELETE CASCADE)."""
        return [t for t in self.state.api_tokens.values() if t.token.user_id in self.state.users]


class InMemoryApiTokenRepository(OverState, ApiTokenRepository):
    def __init__(self, state: MemoryState) -> None:
        super().__init__(state)
        self._live = _Live(state)

    async def add(self, new: NewApiToken) -> ApiToken:
        if any(t.digest == new.digest for t in self._s.api_tokens.values()):
            raise ConflictError("An API token with this digest exists")  # the unique index
        token = built_from(ApiToken, new, id=self._s.new_id("api_tokens"), last_used_at=None)
        self._s.api_tokens[token.id] = StoredApiToken(token=token, digest=new.digest)
        return token

    async def get(self, token_id: int) -> ApiToken | None:
        stored = self._s.api_tokens.get(token_id)
        return stored.token if stored is not None and stored.token.user_id in self._s.users else None

    async def list_unrevoked(self, user_id: int | None) -> Sequence[ApiToken]:
        found = [t.token for t in self._live.tokens() if t.token.revoked_at is None]
        return sorted((t for t in found if user_id in (None, t.user_id)), key=lambda t: t.id)

    async def count_live(self, user_id: int, now: datetime) -> int:
        return sum(1 for t in self._live.tokens() if t.token.user_id == user_id and t.token.is_live(now))

    async def revoke(self, token_id: int, now: datetime) -> bool:
        stored = self._s.api_tokens.get(token_id)
        if stored is None or stored.token.revoked_at is not None or stored.token.user_id not in self._s.users:
            return False
        stored.token = replace(stored.token, revoked_at=now)
        return True

    async def revoke_all(self, user_id: int, now: datetime) -> int:
        ended = 0
        for stored in self._live.tokens():
            if stored.token.user_id == user_id and stored.token.revoked_at is None:
                stored.token = replace(stored.token, revoked_at=now)
                ended += 1
        return ended
