"""Read-side look-ups of accounts and sessions over the committed state of the in-memory database."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from gatehouse.adapters.memory.state import OverDatabase, copy_of
from gatehouse.application.ports.api_tokens import ApiTokenQueries, TokenPrincipal
from gatehouse.application.ports.paging import After, KeysetPage, Page
from gatehouse.application.ports.sessions import SessionQueries
from gatehouse.application.ports.users import (
    UserFilter,
    UserKeysetQuery,
    UserPageQuery,
    UserQueries,
    user_sort_value,
)
from gatehouse.domain.user import Session, User


class InMemoryUserQueries(OverDatabase, UserQueries, ApiTokenQueries):
    async def get(self, user_id: int) -> User | None:
        return copy_of(self._db.state.users, user_id)

    async def find_for_login(self, identifier: str) -> User | None:
        for user in self._db.state.users.values():
            if identifier in (user.email.value, user.username.canonical):
                return replace(user)
        return None

    async def page(self, query: UserPageQuery) -> Page[User]:
        matches = self._matching(query.filter)
        matches.sort(key=lambda u: u.id, reverse=query.descending)
        matches.sort(key=lambda u: user_sort_value(u, query.sort), reverse=query.descending)
        start = (query.page - 1) * query.page_size
        return Page(items=[replace(u) for u in matches[start : start + query.page_size]], total=len(matches))

    async def keyset(self, query: UserKeysetQuery) -> KeysetPage[User]:
        matches = self._matching(query.filter)

        def key(u: User) -> tuple[Any, int]:
            return (user_sort_value(u, query.sort), u.id)

        matches.sort(key=key, reverse=query.descending)
        if query.after is not None:
            bound = (query.after.value, query.after.id)
            matches = [u for u in matches if (key(u) < bound if query.descending else key(u) > bound)]
        page = [replace(u) for u in matches[: query.limit]]
        more = len(matches) > query.limit
        last = page[-1] if page else None
        next_after = After(user_sort_value(last, query.sort), last.id) if more and last else None
        return KeysetPage(page, next_after)

    def _matching(self, f: UserFilter) -> list[User]:
        needle = f.search.lower() if f.search is not None else None
        return [
            u
            for u in self._db.state.users.values()
            if (f.role is None or u.role is f.role)
            and (f.is_active is None or u.is_active is f.is_active)
            and (needle is None or _contains(u, needle))
        ]

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        session = self._db.state.sessions.get(session_id)
        user = self._db.state.users.get(user_id)
        if session is None or user is None or session.user_id != user_id:
            return None
        if not session.is_live(now) or not user.is_active:
            return None
        return replace(user)

    async def find_token_principal(self, digest: str, now: datetime) -> TokenPrincipal | None:
        for stored in self._db.state.api_tokens.values():
            user = self._db.state.users.get(stored.token.user_id)
            if stored.digest == digest and stored.token.is_live(now) and user is not None and user.is_active:
                return TokenPrincipal(user=replace(user), token=stored.token)
        return None

    async def mark_token_used(self, token_id: int, now: datetime, *, unless_since: datetime) -> None:
        async with self._db.writer:  # as a unit of work writes the committed state
            stored = self._db.state.api_tokens.get(token_id)
            if stored is not None and (
                stored.token.last_used_at is None or stored.token.last_used_at < unless_since
            ):
                stored.token = replace(stored.token, last_used_at=now)


def _contains(user: User, needle: str) -> bool:
    haystacks = (
        user.email.value,
        user.username.value.lower(),
        (user.full_name.value if user.full_name else "").lower(),
    )
    return any(needle in h for h in haystacks)


class InMemorySessionQueries(OverDatabase, SessionQueries):
    async def list_live(self, user_id: int, now: datetime) -> Sequence[Session]:
        live = [s for s in self._db.state.sessions.values() if s.user_id == user_id and s.is_live(now)]
        return [replace(s) for s in sorted(live, key=lambda s: (s.created_at, s.id), reverse=True)]
