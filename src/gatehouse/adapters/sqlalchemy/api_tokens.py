"""API tokens in the database: the repository of a unit of work, and the one-row look-up that
every request with an API token makes (token ⋈ user, by the unique digest)."""

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.rows import USER_COLUMNS, USER_SELECT, user_from_driver_row
from gatehouse.adapters.sqlalchemy.tables import api_tokens, users
from gatehouse.application.ports.api_tokens import ApiToken, ApiTokenRepository, NewApiToken, TokenPrincipal
from gatehouse.domain.scopes import Scope, ordered

TOKEN_COLUMNS = ("id", "user_id", "name", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at")
TOKEN_SELECT = tuple(api_tokens.c[name] for name in TOKEN_COLUMNS)
# The per-request look-up: the user's columns first (as every hot path), then the token's.
TOKEN_PRINCIPAL = (
    select(*USER_SELECT, *TOKEN_SELECT)
    .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
    .where(
        api_tokens.c.digest == bindparam("digest"),
        api_tokens.c.revoked_at.is_(None),
        api_tokens.c.expires_at > bindparam("now"),
        users.c.is_active.is_(True),
    )
)


def stored_scopes(scopes: frozenset[Scope]) -> str:
    return " ".join(ordered(scopes))


@functools.cache
def scopes_of(stored: str) -> frozenset[Scope]:
    """The scopes of a stored `scopes` column (few distinct values: parsed once each)."""
    return frozenset(Scope(name) for name in stored.split())


def token_from(values: Sequence[Any], moment: Callable[[Any], datetime] | None = None) -> ApiToken:
    """A token from its columns in `TOKEN_COLUMNS` order; `moment` makes a driver's timestamp aware."""
    id_, user_id, name, scopes, created, expires, used, revoked = values
    if moment is not None:
        created, expires = moment(created), moment(expires)
        used = moment(used) if used is not None else None
        revoked = moment(revoked) if revoked is not None else None
    return ApiToken(
        id=id_,
        user_id=user_id,
        name=name,
        scopes=scopes_of(scopes),
        created_at=created,
        expires_at=expires,
        last_used_at=used,
        revoked_at=revoked,
    )


def principal_from(row: Sequence[Any], moment: Callable[[Any], datetime] | None = None) -> TokenPrincipal:
    """A row of `TOKEN_PRINCIPAL`, read by position."""
    return TokenPrincipal(
        user=user_from_driver_row(row, moment), token=token_from(row[len(USER_COLUMNS) :], moment)
    )


def mark_used_statement(token_id: int, now: datetime, unless_since: datetime) -> Any:
    c = api_tokens.c
    return (
        update(api_tokens)
        .where(c.id == token_id, (c.last_used_at.is_(None)) | (c.last_used_at < unless_since))
        .values(last_used_at=now)
    )


class SqlAlchemyApiTokenRepository(ApiTokenRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: NewApiToken) -> ApiToken:
        values = {
            "user_id": new.user_id,
            "name": new.name,
            "scopes": stored_scopes(new.scopes),
            "digest": new.digest,
            "created_at": new.created_at,
            "expires_at": new.expires_at,
        }
        row = (await self._conn.execute(insert(api_tokens).values(**values).returning(*TOKEN_SELECT))).one()
        return token_from(tuple(row))

    async def get(self, token_id: int) -> ApiToken | None:
        row = (await self._conn.execute(select(*TOKEN_SELECT).where(api_tokens.c.id == token_id))).first()
        return token_from(tuple(row)) if row is not None else None

    async def list_unrevoked(self, user_id: int | None) -> Sequence[ApiToken]:
        stmt = select(*TOKEN_SELECT).where(api_tokens.c.revoked_at.is_(None)).order_by(api_tokens.c.id)
        if user_id is not None:
            stmt = stmt.where(api_tokens.c.user_id == user_id)
        return [token_from(tuple(row)) for row in (await self._conn.execute(stmt)).all()]

    async def count_live(self, user_id: int, now: datetime) -> int:
        c = api_tokens.c
        stmt = (
            select(func.count())
            .select_from(api_tokens)
            .where(c.user_id == user_id, c.revoked_at.is_(None), c.expires_at > now)
        )
        return int((await self._conn.execute(stmt)).scalar_one())

    async def revoke(self, token_id: int, now: datetime) -> bool:
        c = api_tokens.c
        stmt = update(api_tokens).where(c.id == token_id, c.revoked_at.is_(None)).values(revoked_at=now)
        return (await self._conn.execute(stmt)).rowcount == 1

    async def revoke_all(self, user_id: int, now: datetime) -> int:
        c = api_tokens.c
        stmt = update(api_tokens).where(c.user_id == user_id, c.revoked_at.is_(None)).values(revoked_at=now)
        return int((await self._conn.execute(stmt)).rowcount)
