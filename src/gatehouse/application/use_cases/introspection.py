"""Token introspection (RFC 7662) for the services that trust Gatehouse (CONTRACT §13)."""

from dataclasses import dataclass, field

from gatehouse.application.api_token_format import is_api_token
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import TokenIssuer
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.domain.policy import Actor, check_can_introspect
from gatehouse.domain.scopes import ordered


@dataclass(frozen=True, slots=True, kw_only=True)
class Introspection:
    """`active` alone for a token that is not live; the rest only for one that is."""

    active: bool
    sub: str | None = None
    exp: int | None = None
    token_type: str | None = None
    scope: str | None = None


INACTIVE = Introspection(active=False)


@dataclass(frozen=True, slots=True)
class IntrospectToken:
    """Whether a token is live now, and whose it is.

    - The caller: an admin's API token with the `introspect` scope (a session, another token, or a
      token whose owner is no longer an admin: 403).
    - A live access token: `active`, `sub`, `exp`, `token_type: "access_token"`; a live API token
      also `scope` (its scopes, space-separated) with `token_type: "api_token"`.
    - Anything else — revoked, expired, unknown, a refresh token or an `mfa_token` — is
      `{"active": false}`, with nothing more.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        token: str = field(repr=False)

    authenticate: Authenticate
    tokens: TokenIssuer
    queries: UserQueries
    clock: Clock

    async def execute(self, query: Query) -> Introspection:
        check_can_introspect(query.actor)
        if is_api_token(query.token):
            principal = await self.authenticate.api_token_principal(query.token)
            if principal is None:
                return INACTIVE
            token = principal.token
            return Introspection(
                active=True,
                sub=str(token.user_id),
                exp=int(token.expires_at.timestamp()),
                token_type="api_token",  # noqa: S106 - RFC 7662 names
                scope=" ".join(ordered(token.scopes)),
            )
        try:
            claims = self.tokens.read_access(query.token)
        except AuthenticationError:
            return INACTIVE
        user = await self.queries.find_principal(
            session_id=claims.session_id, user_id=claims.user_id, now=self.clock.now()
        )
        if user is None:
            return INACTIVE
        return Introspection(
            active=True,
            sub=str(user.id),
            exp=claims.expires_at,
            token_type="access_token",  # noqa: S106 - RFC 7662 names
        )
