"""Credentials: password hashing, access and refresh tokens, one-time account tokens."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from gatehouse.domain.values import RawPassword


class PasswordHasher(Protocol):
    """Hashing and verification, run off the event loop in a bounded pool.

    Raises `ServiceUnavailableError` when the pool's queue is full.
    """

    async def hash(self, password: RawPassword) -> str: ...

    async def verify(self, password_hash: str, password: RawPassword) -> bool: ...

    async def verify_dummy(self, password: RawPassword) -> None:
        """Spend the time of one verification, for accounts that don't exist."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    expires_at: int = field(default=0, compare=False)  # `exp`, seconds since the epoch: read, not matched


class TokenIssuer(Protocol):
    """Access tokens (signed, short-lived) and refresh tokens (opaque, stored as fingerprints)."""

    access_ttl: int
    refresh_ttl: int

    def issue_access(self, *, user_id: int, session_id: int, now: datetime) -> str: ...

    def read_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token, else `AuthenticationError`."""
        ...

    def new_opaque_token(self) -> str: ...

    def fingerprint(self, opaque_token: str) -> str: ...


# The algorithms that sign access tokens with a private key (§13); HS256 uses the shared secret.
PUBLIC_KEY_ALGORITHMS = ("EdDSA", "ES256")


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicJwk:
    """A public key as a JWK (RFC 7517): `kid` is its RFC 7638 thumbprint; `y` only for EC keys."""

    kty: str
    crv: str
    x: str
    y: str | None = None
    kid: str
    alg: str
    use: str = "sig"


@runtime_checkable  # Litestar checks the type of what the container hands a handler
class PublishedKeys(Protocol):
    """The public keys that verify access tokens, the signing key's first: what other services
    verify them with, never holding a secret. Empty with HS256 (a shared secret is never published)."""

    def public_keys(self) -> Sequence[PublicJwk]: ...


@dataclass(frozen=True, slots=True)
class NewSigningKey:
    """A fresh private key as PKCS#8 PEM, and the `kid` its tokens will carry."""

    algorithm: str
    kid: str
    pem: bytes = field(repr=False)


class SigningKeyFactory(Protocol):
    def generate(self, algorithm: str) -> NewSigningKey:
        """A new key for one of `PUBLIC_KEY_ALGORITHMS`."""
        ...


class SecretTokens(Protocol):
    """Random one-time tokens and the fingerprints they are stored as."""

    def new(self) -> tuple[str, str]:
        """A fresh token (≥ 32 random bytes, URL-safe) and its fingerprint."""
        ...

    def fingerprint(self, token: str) -> str: ...


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


@dataclass(frozen=True, slots=True)
class NewAccountToken:
    """A one-time token to store, known only by its fingerprint."""

    purpose: TokenPurpose
    user_id: int | None
    email: str
    fingerprint: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccountToken:
    """A one-time token as stored: known only by its fingerprint."""

    id: int
    purpose: TokenPurpose
    user_id: int | None
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    def is_usable(self, now: datetime) -> bool:
        return self.user_id is not None and self.used_at is None and now < self.expires_at


class AccountTokenRepository(Protocol):
    """One-time tokens inside a unit of work."""

    async def issue(self, token: NewAccountToken) -> None:
        """Store a new token; the user's older unused tokens of this purpose die (at its
        `created_at`). `user_id=None` stores a token that can never be used (the same write for an
        unknown address)."""
        ...

    async def find(self, purpose: TokenPurpose, fingerprint: str) -> AccountToken | None: ...

    async def spend(self, token_id: int, now: datetime) -> bool:
        """Mark it used; False when it already was (two racing confirmations can't both win)."""
        ...

    async def revoke_all(self, purpose: TokenPurpose, user_id: int, now: datetime) -> None: ...
