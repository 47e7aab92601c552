"""The read side: look-ups on the read engine, outside any write transaction."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, func, or_, select
from sqlalchemy.sql.elements import UnaryExpression

from gatehouse.adapters.sqlalchemy.api_tokens import TOKEN_PRINCIPAL, mark_used_statement, principal_from
from gatehouse.adapters.sqlalchemy.database import UNICODE_LOWER, Database, log, unavailable_as_503
from gatehouse.adapters.sqlalchemy.rows import USER_SELECT, to_session, to_user
from gatehouse.adapters.sqlalchemy.tables import sessions, users
from gatehouse.application.ports.api_tokens import ApiTokenQueries, TokenPrincipal
from gatehouse.application.ports.paging import After, KeysetPage, Page, keyset_page
from gatehouse.application.ports.sessions import SessionQueries
from gatehouse.application.ports.users import (
    UserFilter,
    UserKeysetQuery,
    UserPageQuery,
    UserQueries,
    UserSortField,
    user_sort_value,
)
from gatehouse.domain.user import Session, User


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The per-request look-ups, with named parameters: the portable path executes them as they are,
# the one-hop paths (fast_reads.py) compile them once for their driver and read rows by position.
GET_USER = select(*USER_SELECT).where(users.c.id == bindparam("user_id"))
LOGIN_USER = select(*USER_SELECT).where(
    or_(users.c.email == bindparam("ident"), func.lower(users.c.username) == bindparam("ident"))
)
PRINCIPAL = (
    select(*USER_SELECT)
    .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
    .where(
        sessions.c.id == bindparam("session_id"),
        sessions.c.user_id == bindparam("user_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > bindparam("now"),
        users.c.is_active.is_(True),
    )
)


def filter_values(f: UserFilter) -> dict[str, Any]:
    """The listing filter's parameters, one per condition that applies: `SqlAlchemyUserQueries
    .filter_clause` builds the WHERE clause from exactly these names."""
    values: dict[str, Any] = {}
    if f.role is not None:
        values["role"] = f.role.value
    if f.is_active is not None:
        values["is_active"] = f.is_active
    if f.search:
        values["pattern"] = f"%{_escape_like(f.search.lower())}%"
    return values


class SqlAlchemyUserQueries(UserQueries, ApiTokenQueries):
    """Every method is one statement (two for a numbered page: items and total). The principal
    behind an API token is looked up here too, as the one behind a session is."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: int) -> User | None:
        rows = await self._fetch(GET_USER, {"user_id": user_id})
        return to_user(rows[0]) if rows else None

    async def find_for_login(self, identifier: str) -> User | None:
        rows = await self._fetch(LOGIN_USER, {"ident": identifier})
        return to_user(rows[0]) if rows else None

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        rows = await self._fetch(PRINCIPAL, {"session_id": session_id, "user_id": user_id, "now": now})
        return to_user(rows[0]) if rows else None

    async def find_token_principal(self, digest: str, now: datetime) -> TokenPrincipal | None:
        rows = await self._fetch(TOKEN_PRINCIPAL, {"digest": digest, "now": now})
        return principal_from(rows[0]) if rows else None

    async def mark_token_used(self, token_id: int, now: datetime, *, unless_since: datetime) -> None:
        try:
            async with self._db.write_engine.begin() as conn:
                await conn.execute(mark_used_statement(token_id, now, unless_since))
        except Exception as exc:  # best effort: the request goes on; the error's text may quote values
            log.warning(
                "api_token_use_not_recorded",
                extra={
                    "event": "api_token_use_not_recorded",
                    "token_id": token_id,
                    "error": type(exc).__name__,
                },
            )

    async def page(self, query: UserPageQuery) -> Page[User]:
        where, values = self.filter_clause(query.filter), filter_values(query.filter)
        total_stmt = select(func.count()).select_from(users).where(where)
        items_stmt = (
            select(users)
            .where(where)
            .order_by(*self.order_by(query.sort, query.descending))
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        )
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            total = (await conn.execute(total_stmt, values)).scalar_one()
            rows = (await conn.execute(items_stmt, values)).all() if total else []
        return Page(items=[to_user(r) for r in rows], total=total)

    async def keyset(self, query: UserKeysetQuery) -> KeysetPage[User]:
        where = self.filter_clause(query.filter)
        if query.after is not None:
            where = and_(where, self.after_clause(query.sort, query.descending, query.after))
        stmt = (
            select(users)
            .where(where)
            .order_by(*self.order_by(query.sort, query.descending))
            .limit(query.limit + 1)
        )
        found = [to_user(r) for r in await self._fetch(stmt, filter_values(query.filter))]
        return keyset_page(found, query.limit, lambda last: After(user_sort_value(last, query.sort), last.id))

    def after_clause(self, sort: UserSortField, descending: bool, after: After) -> ColumnElement[bool]:
        """Strictly after (value, id) in the walk's order: a keyset predicate."""
        key = self.sort_expression(sort)
        if sort is UserSortField.ID:
            return users.c.id < after.id if descending else users.c.id > after.id
        if descending:
            return or_(key < after.value, and_(key == after.value, users.c.id < after.id))
        return or_(key > after.value, and_(key == after.value, users.c.id > after.id))

    def filter_clause(self, f: UserFilter) -> ColumnElement[bool]:
        """The listing's WHERE clause: one condition per parameter of `filter_values(f)`, bound by that
        name, so a statement built with it runs with those values (and compiles once per shape)."""
        applies = filter_values(f)
        clauses: list[ColumnElement[bool]] = []
        if "role" in applies:
            clauses.append(users.c.role == bindparam("role"))
        if "is_active" in applies:
            clauses.append(users.c.is_active == bindparam("is_active"))
        if "pattern" in applies:
            pattern = bindparam("pattern", type_=String())
            clauses.append(
                or_(
                    users.c.email.like(pattern, escape="\\"),
                    func.lower(users.c.username).like(pattern, escape="\\"),
                    self._lower(users.c.full_name).like(pattern, escape="\\"),
                )
            )
        return and_(True, *clauses)

    def page_select(self, query: UserPageQuery) -> Select[Any]:
        """A numbered page with its total in every row, with named parameters (limit, offset, filters)."""
        where = self.filter_clause(query.filter)
        # An uncorrelated scalar subquery is evaluated once per statement; unlike
        # COUNT(*) OVER () it does not make the engine materialise every matching row.
        total = select(func.count()).select_from(users).where(where).scalar_subquery()
        return (
            select(*USER_SELECT, total.label("total"))
            .where(where)
            .order_by(*self.order_by(query.sort, query.descending))
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )

    def sort_expression(self, field: UserSortField) -> ColumnElement[Any]:
        """The sort key; text keys compare lower-cased bytes so every engine orders alike."""
        if field is UserSortField.USERNAME:
            return self._bytewise(func.lower(users.c.username))
        if field is UserSortField.EMAIL:
            return self._bytewise(users.c.email)
        if field is UserSortField.CREATED_AT:
            return users.c.created_at
        return users.c.id

    def order_by(self, field: UserSortField, descending: bool) -> list[UnaryExpression[Any]]:
        key = self.sort_expression(field)
        if field is UserSortField.ID:
            return [key.desc() if descending else key.asc()]
        if descending:
            return [key.desc(), users.c.id.desc()]
        return [key.asc(), users.c.id.asc()]

    def _lower(self, expression: ColumnElement[Any]) -> ColumnElement[Any]:
        """Unicode-aware lower-casing on every engine (PostgreSQL's lower(); ours on SQLite)."""
        return getattr(func, UNICODE_LOWER)(expression) if self._db.is_sqlite else func.lower(expression)

    def _bytewise(self, expression: ColumnElement[str]) -> ColumnElement[str]:
        return expression if self._db.is_sqlite else expression.collate("C")

    async def _fetch(self, stmt: Select[Any], params: dict[str, Any] | None = None) -> list[Any]:
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            return list((await conn.execute(stmt, params or {})).all())


class SqlAlchemySessionQueries(SessionQueries):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def list_live(self, user_id: int, now: datetime) -> Sequence[Session]:
        c = sessions.c
        stmt = (
            select(sessions)
            .where(c.user_id == user_id, c.revoked_at.is_(None), c.expires_at > now)
            .order_by(c.created_at.desc(), c.id.desc())
        )
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            return [to_session(row) for row in (await conn.execute(stmt)).all()]
