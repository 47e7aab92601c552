"""Discovery for other services (§13): the public keys that verify access tokens, and where they are.

Served at the root only (never under `/api/vN`), not rate-limited, and cacheable for five minutes:
the keys change only when the service restarts with other settings.
"""

from typing import Literal

from litestar import get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency

from gatehouse.application.ports.credentials import PublishedKeys
from gatehouse.entrypoints.http.openapi import TOKEN_URL
from gatehouse.entrypoints.http.schemas.well_known import DiscoveryOut, JwkSetOut, jwk_out
from gatehouse.entrypoints.settings import Settings

TAG = ["keys"]
JWKS_PATH = "/.well-known/jwks.json"
ISSUER: Literal["gatehouse"] = "gatehouse"  # the tokens' `iss`
CACHEABLE = [
    ResponseHeader(
        name="Cache-Control",
        value="public, max-age=300",
        description="Cacheable by anyone for five minutes.",
    )
]


@get(JWKS_PATH, tags=TAG, summary="The public keys that verify access tokens", response_headers=CACHEABLE)
async def list_signing_keys(published_keys: NamedDependency[PublishedKeys]) -> JwkSetOut:
    """The JWK Set of the key that signs access tokens (`GATEHOUSE_JWT_ALGORITHM` `EdDSA` or
    `ES256`) and of the previous keys whose tokens still verify. A token's header names its key
    (`kid`, the key's RFC 7638 thumbprint); accept only the key's `alg`. With `HS256` the set is
    empty: those tokens are verified by Gatehouse alone."""
    return JwkSetOut(keys=[jwk_out(key) for key in published_keys.public_keys()])


@get(
    "/.well-known/openid-configuration",
    tags=TAG,
    summary="Where the signing keys are",
    response_headers=CACHEABLE,
)
async def read_open_id_configuration(settings: NamedDependency[Settings]) -> DiscoveryOut:
    """A discovery document naming the issuer (`gatehouse`, the tokens' `iss`), the JWK Set's URL
    and the token endpoint (the OAuth2 password grant). Gatehouse issues no ID tokens: this is
    not an OpenID provider, only the way to its keys."""
    base = settings.public_url
    return DiscoveryOut(
        issuer=ISSUER,
        jwks_uri=f"{base}{JWKS_PATH}",
        token_endpoint=f"{base}{TOKEN_URL}",
        grant_types_supported=["password"],
    )


ROUTES = [list_signing_keys, read_open_id_configuration]
