"""AES-256-GCM for secrets at rest, and HMAC-SHA-256 digests, under keys derived from the data key."""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gatehouse.application.errors import SecretUnreadableError
from gatehouse.application.ports.mfa import SecretBox

VERSION = b"\x01"  # the layout: version (1 byte) | nonce (12 bytes) | ciphertext and tag
NONCE_BYTES = 12


def _derive(data_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(data_key.encode())


class AesGcmSecretBox(SecretBox):
    """The data key never encrypts anything itself: one key is derived for encryption and another
    for digests (HKDF-SHA-256), so neither use can be turned against the other."""

    def __init__(self, data_key: str) -> None:
        self._aead = AESGCM(_derive(data_key, b"gatehouse secrets at rest v1"))
        self._digest_key = _derive(data_key, b"gatehouse digests v1")

    def seal(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, sealed: bytes, *, context: str) -> str:
        if len(sealed) <= 1 + NONCE_BYTES or sealed[:1] != VERSION:
            raise SecretUnreadableError("a sealed secret is malformed")
        nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, context.encode()).decode()
        except InvalidTag:
            raise SecretUnreadableError("a sealed secret does not open with this data key") from None

    def digest(self, text: str) -> str:
        return hmac.new(self._digest_key, text.encode(), hashlib.sha256).hexdigest()
