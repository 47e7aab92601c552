"""One-time account tokens (email verification, password reset), bound to one transaction."""

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import BigInteger, Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.rows import from_row
from gatehouse.adapters.sqlalchemy.tables import account_tokens
from gatehouse.application.ports.credentials import (
    AccountToken,
    AccountTokenRepository,
    NewAccountToken,
    TokenPurpose,
)


class SqlAlchemyAccountTokenRepository(AccountTokenRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def issue(self, token: NewAccountToken) -> None:
        # `user_id = NULL` matches no row: the unknown-address path runs the same statement.
        await self._conn.execute(self._revoke_stmt(token.purpose, token.user_id, token.created_at))
        values = asdict(token) | {"purpose": token.purpose.value}
        await self._conn.execute(insert(account_tokens).values(**values))

    async def find(self, purpose: TokenPurpose, fingerprint: str) -> AccountToken | None:
        stmt = select(account_tokens).where(
            account_tokens.c.fingerprint == fingerprint, account_tokens.c.purpose == purpose.value
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        return from_row(AccountToken, row, purpose=TokenPurpose(row.purpose))

    async def spend(self, token_id: int, now: datetime) -> bool:
        stmt = (
            update(account_tokens)
            .where(account_tokens.c.id == token_id, account_tokens.c.used_at.is_(None))
            .values(used_at=now)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def revoke_all(self, purpose: TokenPurpose, user_id: int, now: datetime) -> None:
        await self._conn.execute(self._revoke_stmt(purpose, user_id, now))

    @staticmethod
    def _revoke_stmt(purpose: TokenPurpose, user_id: int | None, now: datetime) -> Update:
        # A bound parameter, not `== None` (which SQLAlchemy would turn into IS NULL).
        owner = bindparam("token_user_id", user_id, type_=BigInteger())
        return (
            update(account_tokens)
            .where(
                account_tokens.c.user_id == owner,
                account_tokens.c.purpose == purpose.value,
                account_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
