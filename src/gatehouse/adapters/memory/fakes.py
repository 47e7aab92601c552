"""Deterministic stand-ins for the clock, the hasher, the token issuer and the request's origin."""

import itertools
from datetime import UTC, datetime, timedelta

from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.audit import Origin, OriginSource
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import AccessClaims, PasswordHasher, TokenIssuer
from gatehouse.domain.values import RawPassword


class FixedClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class InMemoryPasswordHasher(PasswordHasher):
    """Reversible 'hashing' that records every call, so tests can compare the work done."""

    def __init__(self, scheme: str = "fake1") -> None:
        self.scheme = scheme
        self.calls: list[str] = []

    async def hash(self, password: RawPassword) -> str:
        self.calls.append("hash")
        return f"{self.scheme}${password.value}"

    async def verify(self, password_hash: str, password: RawPassword) -> bool:
        self.calls.append("verify")
        return password_hash.split("$", 1)[1] == password.value

    async def verify_dummy(self, password: RawPassword) -> None:
        self.calls.append("verify")

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"{self.scheme}$")


class InMemoryTokenIssuer(TokenIssuer):
    """Readable tokens `access:<user>:<session>`; refresh tokens are numbered."""

    def __init__(self, access_ttl: int = 1800, refresh_ttl: int = 1209600) -> None:
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._numbers = itertools.count(1)

    def issue_access(self, *, user_id: int, session_id: int, now: datetime) -> str:
        return f"access:{user_id}:{session_id}"

    def read_access(self, token: str) -> AccessClaims:
        kind, _, rest = token.partition(":")
        user, _, session = rest.partition(":")
        if kind != "access" or not user.isdigit() or not session.isdigit():
            raise AuthenticationError("Invalid token")
        return AccessClaims(user_id=int(user), session_id=int(session))

    def new_opaque_token(self) -> str:
        return f"refresh-{next(self._numbers)}"

    def fingerprint(self, opaque_token: str) -> str:
        return f"fp({opaque_token})"


class FixedOrigin(OriginSource):
    def __init__(self, origin: Origin | None = None) -> None:
        self.origin = origin or Origin()

    def current(self) -> Origin:
        return self.origin
