"""Turn a bearer access token into the actor it speaks for."""

from dataclasses import dataclass, field

from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import TokenIssuer
from gatehouse.application.ports.users import UserQueries
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User


class Authenticate:
    """Resolve an access token.

    - The token must be a valid access token (signature, algorithm, every claim; 401).
    - Its session must be live (not logged out, revoked or expired) and its user active (401).
    - One look-up joins session and user: this runs on every authenticated request.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        token: str = field(repr=False)

    def __init__(self, tokens: TokenIssuer, queries: UserQueries, clock: Clock) -> None:
        self._tokens = tokens
        self._queries = queries
        self._clock = clock

    async def execute(self, query: Query) -> tuple[Actor, User]:
        """The actor and the account it is, from the same single look-up."""
        claims = self._tokens.read_access(query.token)
        user = await self._queries.find_principal(
            session_id=claims.session_id, user_id=claims.user_id, now=self._clock.now()
        )
        if user is None:
            raise AuthenticationError("Session has ended")
        return Actor(user_id=user.id, role=user.role, session_id=claims.session_id), user
