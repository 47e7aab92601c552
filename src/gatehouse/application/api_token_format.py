"""The `gat_` token format (CONTRACT §13), checkable offline by a secret scanner.

    gat_ + 40 random characters of [A-Za-z0-9] + a 6-character checksum

The checksum is the CRC-32 (zlib/PNG polynomial, as `zlib.crc32`) of the 40 random characters
(their ASCII bytes), written in base 62 with the digits `0-9A-Za-z` (0 = "0", 10 = "A", 36 = "a"),
most significant first, left-padded with "0" to 6 characters. A scanner that finds `gat_` and 46
such characters can recompute the checksum and so tell a real token from a look-alike without
asking anyone. Only the SHA-256 (hex) of the whole token is stored.
"""

import hashlib
import re
import secrets
import zlib

PREFIX = "gat_"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 40
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
SHAPE = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")


def checksum(random_part: str) -> str:
    value = zlib.crc32(random_part.encode("ascii"))
    digits = ""
    while value:
        value, digit = divmod(value, 62)
        digits = BASE62[digit] + digits
    return digits.rjust(CHECKSUM_LENGTH, "0")


def new_api_token() -> str:
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return PREFIX + random_part + checksum(random_part)


def is_api_token(token: str) -> bool:
    """Whether `token` is meant as an API token (the prefix): it is then checked as one only."""
    return token.startswith(PREFIX)


def is_well_formed(token: str) -> bool:
    """The shape and the checksum: a token that fails here is refused without a database read."""
    if len(token) != TOKEN_LENGTH or SHAPE.fullmatch(token) is None:
        return False
    random_part = token[len(PREFIX) : len(PREFIX) + RANDOM_LENGTH]
    return secrets.compare_digest(checksum(random_part), token[-CHECKSUM_LENGTH:])


def digest(token: str) -> str:
    """What is stored and looked up: the unkeyed SHA-256 of the token, in hex."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
