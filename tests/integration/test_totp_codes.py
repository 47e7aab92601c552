"""The TOTP adapter against RFC 6238's SHA-1 test vectors (6-digit codes), and its window."""

import base64
from datetime import UTC, datetime

import pytest

from gatehouse.adapters.totp import PyotpCodes

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode().rstrip("=")
codes = PyotpCodes()


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


@pytest.mark.parametrize(
    ("unix", "code"),
    [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
    ],
)
def test_rfc_6238_vectors_match_their_own_step(unix: int, code: str) -> None:
    assert codes.matching_step(RFC_SECRET, code, at(unix)) == unix // 30


def test_the_previous_and_next_step_are_accepted_and_no_further() -> None:
    step = 1234567890 // 30
    code = "005924"
    assert codes.matching_step(RFC_SECRET, code, at((step + 1) * 30)) == step  # one step late
    assert codes.matching_step(RFC_SECRET, code, at((step - 1) * 30)) == step  # one step early
    assert codes.matching_step(RFC_SECRET, code, at((step + 2) * 30)) is None
    assert codes.matching_step(RFC_SECRET, code, at((step - 2) * 30)) is None


@pytest.mark.parametrize("code", ["", "00592", "0059245", "00592a", "٠٠٥٩٢٤", "²05924", " 005924"])
def test_anything_but_six_ascii_digits_matches_nothing(code: str) -> None:
    assert codes.matching_step(RFC_SECRET, code, at(1234567890)) is None


def test_a_new_secret_is_160_bits_of_unpadded_base32_and_each_is_new() -> None:
    secrets = {codes.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(base64.b32decode(secret)) == 20
        assert "=" not in secret


def test_the_provisioning_uri_names_the_issuer_and_the_account() -> None:
    uri = codes.provisioning_uri(RFC_SECRET, account="ada@example.com", issuer="Gatehouse")
    assert uri.startswith("otpauth://totp/Gatehouse:ada%40example.com?")
    assert f"secret={RFC_SECRET}" in uri
    assert "issuer=Gatehouse" in uri
