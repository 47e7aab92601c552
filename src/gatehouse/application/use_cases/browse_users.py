"""Walk accounts by cursor (keyset): stable under inserts, no COUNT, no OFFSET."""

from dataclasses import dataclass

from gatehouse.application.ports.paging import KeysetPage
from gatehouse.application.ports.users import UserKeysetQuery, UserQueries
from gatehouse.domain.policy import Actor, check_can_list_users
from gatehouse.domain.user import User


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

    def __init__(self, queries: UserQueries) -> None:
        self._queries = queries

    async def execute(self, query: Query) -> KeysetPage[User]:
        check_can_list_users(query.actor)
        return await self._queries.keyset(query.keyset)
