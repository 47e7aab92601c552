"""The shapes of the discovery documents (`/.well-known/jwks.json`, `/.well-known/openid-configuration`)."""

from typing import Annotated, Literal

import msgspec

from gatehouse.application.ports.credentials import PublicJwk

BASE64URL = msgspec.Meta(pattern="^[A-Za-z0-9_-]+$", description="base64url, no padding")


class JwkOut(msgspec.Struct, kw_only=True):
    """A public key (RFC 7517) that verifies the access tokens whose header names its `kid`."""

    kty: Literal["OKP", "EC"]
    crv: Literal["Ed25519", "P-256"]
    x: Annotated[str, BASE64URL]
    y: Annotated[str, BASE64URL] | msgspec.UnsetType = msgspec.UNSET  # EC keys only
    kid: Annotated[str, BASE64URL, msgspec.Meta(description="the key's RFC 7638 thumbprint (SHA-256)")]
    alg: Literal["EdDSA", "ES256"]
    use: Literal["sig"]


class JwkSetOut(msgspec.Struct):
    """A JWK Set (RFC 7517 §5): the current signing key first, then the previous ones; empty when
    access tokens are HS256 (signed with a secret, which is never published)."""

    keys: list[JwkOut]


class DiscoveryOut(msgspec.Struct):
    """Where to find the keys (RFC 8414 / OpenID Connect Discovery members; not a full provider)."""

    issuer: Literal["gatehouse"]
    jwks_uri: str
    token_endpoint: str
    grant_types_supported: list[Literal["password"]]


def jwk_out(key: PublicJwk) -> JwkOut:
    members = {"kty": key.kty, "crv": key.crv, "x": key.x, "kid": key.kid, "alg": key.alg, "use": key.use}
    return msgspec.convert(members if key.y is None else {**members, "y": key.y}, JwkOut)
