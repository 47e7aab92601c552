"""Turn a bearer token (an access token or an API token) into the actor it speaks for."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gatehouse.application.api_token_format import digest, is_api_token, is_well_formed
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.api_tokens import ApiTokenQueries, TokenPrincipal
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import TokenIssuer
from gatehouse.application.ports.users import UserQueries
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User

# `last_used_at` moves at most this often per token: never a write per request.
USAGE_RESOLUTION = timedelta(minutes=1)
MAX_REMEMBERED = 10_000


class Authenticate:
    """Resolve a bearer token.

    - An access token must be valid (signature, algorithm, every claim; 401), its session live (not
      logged out, revoked or expired) and its user active (401): one look-up joins session and user.
    - An API token (`gat_…`) must have its shape and checksum (401 without a database read), and be
      unrevoked and unexpired with an active owner (401): one indexed look-up joins token and user,
      on every request, so a revocation holds at once on every worker. The actor then carries the
      token's scopes. `last_used_at` is written at most once a minute per token.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        token: str = field(repr=False)

    def __init__(
        self, tokens: TokenIssuer, queries: UserQueries, api_tokens: ApiTokenQueries, clock: Clock
    ) -> None:
        self._tokens = tokens
        self._queries = queries
        self._api_tokens = api_tokens
        self._clock = clock
        self._marked: dict[int, datetime] = {}  # token id: when this worker last wrote its use
        # Well-formed tokens seen before, and their digests: the shape, checksum and hash are the
        # same for the same bytes (only the look-up, made every time, says whether one is live).
        self._digests: dict[str, str] = {}

    async def execute(self, query: Query) -> tuple[Actor, User]:
        """The actor and the account it is, from the same single look-up."""
        if is_api_token(query.token):
            principal = await self.api_token_principal(query.token)
            if principal is None:
                raise AuthenticationError("Invalid, expired or revoked API token")
            await self._mark_used(principal)
            owner, token = principal.user, principal.token
            actor = Actor(
                user_id=owner.id, role=owner.role, session_id=0, scopes=token.scopes, token_id=token.id
            )
            return actor, owner
        claims = self._tokens.read_access(query.token)
        user = await self._queries.find_principal(
            session_id=claims.session_id, user_id=claims.user_id, now=self._clock.now()
        )
        if user is None:
            raise AuthenticationError("Session has ended")
        return Actor(user_id=user.id, role=user.role, session_id=claims.session_id), user

    async def api_token_principal(self, token: str) -> TokenPrincipal | None:
        """The live API token `token` and its active owner; None for anything else."""
        fingerprint = self._digests.get(token)
        if fingerprint is None:
            if not is_well_formed(token):
                return None
            if len(self._digests) >= MAX_REMEMBERED:
                self._digests.clear()
            fingerprint = self._digests[token] = digest(token)
        return await self._api_tokens.find_token_principal(fingerprint, self._clock.now())

    async def _mark_used(self, principal: TokenPrincipal) -> None:
        now = self._clock.now()
        since = now - USAGE_RESOLUTION
        last = principal.token.last_used_at
        if (last is not None and last > since) or self._marked.get(principal.token.id, since) > since:
            return
        if len(self._marked) >= MAX_REMEMBERED:
            self._marked.clear()
        self._marked[principal.token.id] = now
        await self._api_tokens.mark_token_used(principal.token.id, now, unless_since=since)
