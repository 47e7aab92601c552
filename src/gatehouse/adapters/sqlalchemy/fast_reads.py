"""The shape shared by the per-engine hot read paths (ADR 0011).

The statements are Core `select()`s — the same SQL as the portable queries — compiled once per
driver; a subclass says how a statement runs on its raw driver connection and how its driver
returns a timestamp. Rows map by position through the one user mapping of `rows.py`.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect

from gatehouse.adapters.sqlalchemy.api_tokens import TOKEN_PRINCIPAL, principal_from
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.queries import (
    GET_USER,
    LOGIN_USER,
    PRINCIPAL,
    SqlAlchemyUserQueries,
    filter_values,
)
from gatehouse.adapters.sqlalchemy.rows import user_from_driver_row
from gatehouse.application.ports.api_tokens import TokenPrincipal
from gatehouse.application.ports.paging import Page
from gatehouse.application.ports.users import UserPageQuery
from gatehouse.domain.user import User


class Statement:
    """A Core statement compiled once for one driver, and the order of its parameters."""

    def __init__(self, stmt: Select[Any], dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.names)


class OneHopUserQueries(SqlAlchemyUserQueries):
    """The portable queries, with the per-request ones on one round trip each."""

    def __init__(
        self, database: Database, dialect: Dialect, read_time: Callable[[Any], datetime] | None = None
    ) -> None:
        """`read_time` makes a timestamp as this driver returns it aware UTC (None: it is already)."""
        super().__init__(database)
        self._dialect = dialect
        self._read_time = read_time
        self._get, self._login, self._principal = (
            Statement(s, dialect) for s in (GET_USER, LOGIN_USER, PRINCIPAL)
        )
        self._token_principal = Statement(TOKEN_PRINCIPAL, dialect)
        self._pages: dict[tuple[Any, ...], Statement] = {}

    async def fetch_point(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        """Run a look-up of at most one row by primary key or unique index."""
        raise NotImplementedError

    async def fetch_many(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        raise NotImplementedError

    def user_from(self, row: Sequence[Any]) -> User:
        return user_from_driver_row(row, self._read_time)

    def moment(self, now: datetime) -> Any:
        """A timestamp as this driver binds it."""
        return now

    async def get(self, user_id: int) -> User | None:
        rows = await self.fetch_point(self._get, {"user_id": user_id})
        return self.user_from(rows[0]) if rows else None

    async def find_for_login(self, identifier: str) -> User | None:
        rows = await self.fetch_point(self._login, {"ident": identifier})
        return self.user_from(rows[0]) if rows else None

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        values = {"session_id": session_id, "user_id": user_id, "now": self.moment(now)}
        rows = await self.fetch_point(self._principal, values)
        return self.user_from(rows[0]) if rows else None

    async def find_token_principal(self, digest: str, now: datetime) -> TokenPrincipal | None:
        rows = await self.fetch_point(self._token_principal, {"digest": digest, "now": self.moment(now)})
        return principal_from(rows[0], self._read_time) if rows else None

    async def page(self, query: UserPageQuery) -> Page[User]:
        """Items and the total in one statement; the portable count only past the last page."""
        values = filter_values(query.filter)
        # What decides the statement's SQL (values aside): one compiled statement per shape.
        shape = (*values, query.sort, query.descending)
        if shape not in self._pages:
            self._pages[shape] = Statement(self.page_select(query), self._dialect)
        values["limit"], values["offset"] = query.page_size, (query.page - 1) * query.page_size
        rows = await self.fetch_many(self._pages[shape], values)
        if rows:
            return Page(items=[self.user_from(r) for r in rows], total=rows[0][-1])
        return await super().page(query)
