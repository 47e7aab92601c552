"""Tokens an attacker could make, built by hand where PyJWT would refuse to: an HMAC over a public
key's PEM (the classic algorithm-confusion attack) and an unsigned `alg: none` token."""

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signing_input(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def hmac_token(claims: dict[str, Any], key: bytes, *, kid: str) -> str:
    """HS256 under `key`, whatever it is (PyJWT refuses a PEM as an HMAC key; a verifier that
    let the token pick its algorithm would not)."""
    message = signing_input({"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
    return f"{message}.{b64(hmac.new(key, message.encode(), hashlib.sha256).digest())}"


def unsigned_token(claims: dict[str, Any], *, kid: str) -> str:
    return f"{signing_input({'alg': 'none', 'typ': 'JWT', 'kid': kid}, claims)}."


def public_pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: Any) -> bytes:
    """PKCS#8, unencrypted: any private key cryptography makes."""
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem
