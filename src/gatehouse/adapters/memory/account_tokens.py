"""In-memory twin of the one-time account tokens (email verification, password reset)."""

from dataclasses import replace
from datetime import datetime

from gatehouse.adapters.memory.state import OverState, built_from
from gatehouse.application.ports.credentials import (
    AccountToken,
    AccountTokenRepository,
    NewAccountToken,
    TokenPurpose,
)


class InMemoryAccountTokenRepository(OverState, AccountTokenRepository):
    async def issue(self, token: NewAccountToken) -> None:
        if token.user_id is not None:
            await self.revoke_all(token.purpose, token.user_id, token.created_at)
        stored = built_from(AccountToken, token, id=self._s.new_id("account_tokens"), used_at=None)
        self._s.account_tokens[token.fingerprint] = stored

    async def find(self, purpose: TokenPurpose, fingerprint: str) -> AccountToken | None:
        token = self._s.account_tokens.get(fingerprint)
        if token is None or token.purpose is not purpose:
            return None
        if token.user_id is not None and token.user_id not in self._s.users:
            return None  # the account is gone, and its tokens with it (ON DELETE CASCADE)
        return token

    async def spend(self, token_id: int, now: datetime) -> bool:
        for fingerprint, token in self._s.account_tokens.items():
            gone = token.user_id is not None and token.user_id not in self._s.users
            if token.id == token_id and token.used_at is None and not gone:
                self._s.account_tokens[fingerprint] = replace(token, used_at=now)
                return True
        return False

    async def revoke_all(self, purpose: TokenPurpose, user_id: int, now: datetime) -> None:
        for fingerprint, token in list(self._s.account_tokens.items()):
            if token.user_id == user_id and token.purpose is purpose and token.used_at is None:
                self._s.account_tokens[fingerprint] = replace(token, used_at=now)
