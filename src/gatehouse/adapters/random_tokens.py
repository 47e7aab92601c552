"""Random one-time tokens (verification, password reset), stored only as SHA-256 fingerprints."""

import hashlib
import secrets

from gatehouse.application.ports.credentials import SecretTokens

TOKEN_BYTES = 32


class RandomSecretTokens(SecretTokens):
    def new(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        return token, self.fingerprint(token)

    def fingerprint(self, token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
