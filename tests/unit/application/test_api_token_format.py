"""The `gat_` format (CONTRACT §13) against an independent reading of its documented checksum."""

import binascii
import hashlib
import random
import re
import string

import pytest

from gatehouse.application import api_token_format
from gatehouse.application.api_token_format import digest, is_api_token, is_well_formed, new_api_token

SHAPE = re.compile(r"^gat_[A-Za-z0-9]{46}$")
# The documented digits: 0-9, then A-Z, then a-z (0 = "0", 10 = "A", 36 = "a").
DIGITS = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALPHABET = string.ascii_letters + string.digits


def expected_checksum(random_part: str) -> str:
    """CRC-32 (binascii, the same polynomial as zlib) of the ASCII bytes, base 62, 6 digits."""
    value = binascii.crc32(random_part.encode("ascii")) & 0xFFFFFFFF
    out = []
    for _ in range(6):
        value, digit = divmod(value, 62)
        out.append(DIGITS[digit])
    assert value == 0, "a CRC-32 always fits in 6 base-62 digits"
    return "".join(reversed(out))


def forged(random_part: str) -> str:
    return "gat_" + random_part + expected_checksum(random_part)


def test_the_digit_alphabet_is_the_documented_one() -> None:
    assert DIGITS[0] == "0"
    assert DIGITS[10] == "A"
    assert DIGITS[36] == "a"
    assert len(set(DIGITS)) == 62
    assert api_token_format.BASE62 == DIGITS  # a scanner must use the same digits


def test_known_checksums() -> None:
    assert binascii.crc32(b"a" * 40) == 0xC95B8A25
    assert expected_checksum("a" * 40) == "3gcfED"
    assert api_token_format.checksum("a" * 40) == "3gcfED"
    small = "0" * 37 + "356"  # CRC-32 7165095 < 62**4: two digits of padding
    assert binascii.crc32(small.encode()) == 7165095
    assert expected_checksum(small) == "00U3y3"
    assert api_token_format.checksum(small) == "00U3y3"
    assert api_token_format.checksum("") == "000000"  # crc32(b"") == 0: all padding


def test_the_independent_checksum_agrees_on_many_random_tokens() -> None:
    rng = random.Random(20260101)
    for _ in range(2000):
        random_part = "".join(rng.choice(ALPHABET) for _ in range(40))
        token = forged(random_part)
        assert is_well_formed(token), token
        assert api_token_format.checksum(random_part) == token[-6:]


def test_every_new_token_has_the_shape_and_a_checksum_a_scanner_can_recompute() -> None:
    seen = set()
    for _ in range(500):
        token = new_api_token()
        assert SHAPE.fullmatch(token), token
        assert token[-6:] == expected_checksum(token[4:44])
        assert is_well_formed(token)
        assert is_api_token(token)
        seen.add(token)
    assert len(seen) == 500


def test_the_random_part_uses_the_whole_alphabet() -> None:
    used = set("".join(new_api_token()[4:44] for _ in range(300)))
    assert used == set(ALPHABET)


def test_a_flipped_character_anywhere_fails() -> None:
    rng = random.Random(7)
    for _ in range(20):
        token = new_api_token()
        for position in range(len(token)):
            original = token[position]
            replacement = rng.choice([c for c in ALPHABET + "_" if c != original])
            flipped = token[:position] + replacement + token[position + 1 :]
            assert not is_well_formed(flipped), (position, flipped)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "gat_",
        "gat_" + "a" * 46,
        "GAT_" + forged("b" * 40)[4:],
        "ghp_" + forged("b" * 40)[4:],
        forged("b" * 40) + "0",
        forged("b" * 40)[:-1],
        forged("b" * 40) + "\n",
        " " + forged("b" * 40),
        forged("b" * 39 + "-"),
        "gat_" + "é" * 40 + "000000",
    ],
)
def test_malformed_tokens_are_not_well_formed(token: str) -> None:
    assert not is_well_formed(token)


def test_is_api_token_is_the_prefix_alone() -> None:
    assert is_api_token("gat_")
    assert is_api_token("gat_nonsense")
    assert not is_api_token("access:1:2")
    assert not is_api_token("GAT_x")
    assert not is_api_token("")


def test_the_digest_is_the_sha256_hex_of_the_whole_token() -> None:
    for _ in range(50):
        token = new_api_token()
        assert digest(token) == hashlib.sha256(token.encode()).hexdigest()
        assert digest(token) != hashlib.sha256(token[4:].encode()).hexdigest()
        assert re.fullmatch(r"[0-9a-f]{64}", digest(token))
    assert digest("gat_x") != digest("gat_y")


def test_digest_never_raises_on_non_ascii() -> None:
    assert len(digest("gat_é")) == 64
