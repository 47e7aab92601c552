"""Access tokens as JWTs (PyJWT): HS256 under the secret, or EdDSA/ES256 under a private key;
refresh tokens as random opaque strings."""

import hashlib
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.credentials import AccessClaims, TokenIssuer

ISSUER = "gatehouse"
AUDIENCE = "gatehouse-api"
ALGORITHM = "HS256"  # with the secret; a key ring brings its own
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "aud", "sid", "typ"]
MIN_SECRET_BYTES = 32
VERIFIED_CACHE_SIZE = 4096


class WeakSecretError(ValueError):
    """A signing secret shorter than 32 bytes."""


def key_id(secret: str) -> str:
    """The `kid` naming a key: the first 16 hex digits of the secret's SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class KeyRing(Protocol):
    """A private key and the public keys that verify its tokens, by `kid` (its own included): the
    shape of `SigningKeyRing` in signing_keys.py, which the composition root hands over."""

    @property
    def algorithm(self) -> str: ...

    @property
    def kid(self) -> str: ...

    @property
    def private_key(self) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey: ...

    @property
    def verifying_keys(self) -> Mapping[str, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey]: ...


SigningKey = str | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
VerifyingKey = str | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class JwtTokenIssuer(TokenIssuer):
    """Signs with the current secret, or with the key ring's private key when one is given;
    verifies with the key the token's `kid` names: the current or a previous one.

    Only one algorithm is accepted, HS256 or the key ring's (EdDSA, ES256): a token in any other,
    `none` included, is refused before its signature is looked at, so neither the secret nor a
    public key (as an HMAC key) can verify a token in a key ring's stead. Every claim is required;
    a token of another type (`typ` other than `access`) is refused.
    """

    def __init__(
        self,
        secret: str,
        *,
        previous_secrets: Sequence[str] = (),
        access_ttl: int = 1800,
        refresh_ttl: int = 1209600,
        key_ring: KeyRing | None = None,
    ) -> None:
        for candidate in (secret, *previous_secrets):
            if len(candidate.encode()) < MIN_SECRET_BYTES:
                raise WeakSecretError("JWT signing secrets must be at least 32 bytes")
        self._algorithm = ALGORITHM
        self._signing_key: SigningKey = secret
        self._kid = key_id(secret)
        self._keys: dict[str, VerifyingKey] = {key_id(s): s for s in (*previous_secrets, secret)}
        if key_ring is not None:  # the secret then signs no token (it still keys the cursors)
            self._algorithm = key_ring.algorithm
            self._signing_key = key_ring.private_key
            self._kid = key_ring.kid
            self._keys = dict(key_ring.verifying_keys)
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._verified: dict[str, tuple[AccessClaims, float]] = {}

    def issue_access(self, *, user_id: int, session_id: int, now: datetime) -> str:
        issued = int(now.timestamp())
        claims = {
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": issued,
            "exp": issued + self.access_ttl,
            "jti": secrets.token_urlsafe(16),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "typ": "access",
        }
        return jwt.encode(claims, self._signing_key, algorithm=self._algorithm, headers={"kid": self._kid})

    def read_access(self, token: str) -> AccessClaims:
        """Verify a token; a token verified before is answered from a small cache until it expires."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            if key is None or header.get("alg") != self._algorithm:
                raise AuthenticationError("Invalid token")
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("Token has expired") from None
        except jwt.PyJWTError:
            raise AuthenticationError("Invalid token") from None
        sub, sid = claims["sub"], claims["sid"]
        if claims["typ"] != "access" or not _decimal(sub) or not _decimal(sid):
            raise AuthenticationError("Invalid token")
        result = AccessClaims(user_id=int(sub), session_id=int(sid), expires_at=int(claims["exp"]))
        # Same bytes, same verdict: only the expiry can change it, and that is checked on every hit.
        self._verified[token] = (result, float(claims["exp"]))
        return result

    def new_opaque_token(self) -> str:
        return secrets.token_urlsafe(32)

    def fingerprint(self, opaque_token: str) -> str:
        return hashlib.sha256(opaque_token.encode()).hexdigest()


def _decimal(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18
