"""Read one account, a numbered page of accounts, or a cursor page (keyset: stable under inserts,
no COUNT, no OFFSET)."""

from dataclasses import dataclass

from gatehouse.application.errors import NotFoundError
from gatehouse.application.ports.paging import KeysetPage, Page
from gatehouse.application.ports.users import UserKeysetQuery, UserPageQuery, UserQueries
from gatehouse.domain.policy import Actor, check_can_list_users, check_can_read
from gatehouse.domain.user import User


@dataclass(frozen=True, slots=True)
class GetUser:
    """Read one account.

    - Anyone signed in may read their own account; moderators and admins any account.
    - A plain user asking for another id gets 403 whether or not it exists; otherwise an unknown id is 404.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        user_id: int
        # The actor's own account as the same request's authentication just read it, if the
        # driver has it: reading one's own id then needs no second look-up.
        signed_in: User | None = None

    queries: UserQueries

    async def execute(self, query: Query) -> User:
        check_can_read(query.actor, query.user_id)
        known = query.signed_in
        if known is not None and known.id == query.user_id == query.actor.user_id:
            return known
        user = await self.queries.get(query.user_id)
        if user is None:
            raise NotFoundError(f"User with id {query.user_id} not found")
        return user


@dataclass(frozen=True, slots=True)
class ListUsers:
    """A numbered page of accounts.

    - Moderators and admins only (403 for users).
    - Filters: role, is_active, and `search`, a case-insensitive substring of email, username or full name.
    - Sorted by id, created_at, username or email (text compared lower-cased), ties broken by id.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        page: UserPageQuery

    queries: UserQueries

    async def execute(self, query: Query) -> Page[User]:
        check_can_list_users(query.actor)
        return await self.queries.page(query.page)


@dataclass(frozen=True, slots=True)
class BrowseUsers:
    """A cursor page of accounts.

    - Moderators and admins only (403 for users).
    - Same filters and sorts as the numbered list; each page resumes strictly after the last
      (sort value, id) seen, so a walk visits every item that existed when it began exactly once.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        keyset: UserKeysetQuery

    queries: UserQueries

    async def execute(self, query: Query) -> KeysetPage[User]:
        check_can_list_users(query.actor)
        return await self.queries.keyset(query.keyset)
