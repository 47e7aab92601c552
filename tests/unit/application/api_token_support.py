"""Helpers of the API-token use-case tests: the three use cases behind one desk, a token issuer whose
access tokens carry an `exp`, a spy on the token read side, and actors of tokens."""

from dataclasses import replace
from datetime import datetime, timedelta

from gatehouse.adapters.memory.fakes import FixedClock, InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.ports.api_tokens import ApiToken, TokenPrincipal
from gatehouse.application.ports.credentials import AccessClaims
from gatehouse.application.ports.sessions import NewSession
from gatehouse.application.use_cases.api_tokens import (
    CreateApiToken,
    CreatedApiToken,
    ListApiTokens,
    RevokeApiToken,
)
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.domain.policy import Actor
from gatehouse.domain.scopes import ALL_SCOPES, Scope
from gatehouse.domain.user import User

MAX_DAYS = 90
EXP = 1_900_000_000  # the `exp` every access token of `ExpiringIssuer` carries
DAY = 86_400
OPERATOR = Actor.operator()


class TokenDesk:
    """CreateApiToken, ListApiTokens and RevokeApiToken over one unit of work."""

    def __init__(self, uow: InMemoryUnitOfWork, clock: FixedClock, max_days: int = MAX_DAYS) -> None:
        self._uow, self._clock = uow, clock
        self.creator = CreateApiToken(uow, clock, max_days)
        self.lister = ListApiTokens(uow)
        self.revoker = RevokeApiToken(uow, clock)

    async def create(
        self, actor: Actor, user: User | int, *scopes: str, name: str = "ci", days: int | None = None
    ) -> CreatedApiToken:
        """A token of `user` (the `profile:read` scope unless told)."""
        user_id = user if isinstance(user, int) else user.id
        command = CreateApiToken.Command(
            actor=await self.with_session(actor),
            user_id=user_id,
            name=name,
            scopes=scopes or ["profile:read"],
            expires_in_days=days,
        )
        return await self.creator.execute(command)

    async def with_session(self, actor: Actor) -> Actor:
        """A session's actor made by `actor_of` (session 0) with a live session of its own, as a
        signed-in caller has: creation checks the caller's session again (401 once it has ended)."""
        if actor.session_id or actor.is_operator or actor.by_api_token:
            return actor
        now = self._clock.now()
        async with self._uow as uow:
            new = NewSession(
                user_id=actor.user_id,
                created_at=now,
                expires_at=now + timedelta(days=1),
                ip=None,
                user_agent=None,
            )
            session = await uow.sessions.add(new)
            await uow.commit()
        return replace(actor, session_id=session.id)

    async def ids(self, actor: Actor, user: User | None) -> list[int]:
        """The ids ListApiTokens gives, in its order."""
        query = ListApiTokens.Query(actor=actor, user_id=user.id if user is not None else None)
        return [t.id for t in await self.lister.execute(query)]

    async def revoke(self, actor: Actor, user: User | None, token_id: int) -> ApiToken:
        user_id = user.id if user is not None else None
        return await self.revoker.execute(
            RevokeApiToken.Command(actor=actor, user_id=user_id, token_id=token_id)
        )


class ExpiringIssuer(InMemoryTokenIssuer):
    """The readable in-memory tokens, whose claims carry `exp` = `EXP`."""

    def read_access(self, token: str) -> AccessClaims:
        return replace(super().read_access(token), expires_at=EXP)


class SpyTokenQueries(InMemoryUserQueries):
    """The in-memory read side, recording each call of the API-token look-ups."""

    def __init__(self, database: InMemoryDatabase) -> None:
        super().__init__(database)
        self.calls: list[str] = []

    async def find_token_principal(self, digest: str, now: datetime) -> TokenPrincipal | None:
        self.calls.append("find")
        return await super().find_token_principal(digest, now)

    async def mark_token_used(self, token_id: int, now: datetime, *, unless_since: datetime) -> None:
        self.calls.append("mark")
        await super().mark_token_used(token_id, now, unless_since=unless_since)


async def auth(authenticate: Authenticate, token: str) -> tuple[Actor, User]:
    return await authenticate.execute(Authenticate.Query(token=token))


def as_token(user: User, *scopes: Scope) -> Actor:
    """`user` speaking through an API token with `scopes` (all of them unless told)."""
    return Actor(
        user_id=user.id, role=user.role, session_id=0, scopes=frozenset(scopes or ALL_SCOPES), token_id=1
    )
