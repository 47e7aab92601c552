"""Secrets at rest: AES-GCM under a key derived from the data key, bound to a context."""

import pytest

from gatehouse.adapters.secret_box import AesGcmSecretBox
from gatehouse.application.errors import SecretUnreadableError

KEY = "k" * 32
box = AesGcmSecretBox(KEY)


def test_a_sealed_secret_opens_with_its_key_and_context_and_holds_no_clear_text() -> None:
    sealed = box.seal("JBSWY3DPEHPK3PXP", context="user:7")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(sealed, context="user:7") == "JBSWY3DPEHPK3PXP"


def test_each_seal_uses_a_fresh_nonce() -> None:
    assert box.seal("same", context="user:7") != box.seal("same", context="user:7")


def test_another_context_another_key_or_an_altered_byte_does_not_open() -> None:
    sealed = box.seal("JBSWY3DPEHPK3PXP", context="user:7")
    with pytest.raises(SecretUnreadableError):
        box.open(sealed, context="user:8")  # copied to another account's row
    with pytest.raises(SecretUnreadableError):
        AesGcmSecretBox("x" * 32).open(sealed, context="user:7")  # the data key was replaced
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretUnreadableError):
        box.open(altered, context="user:7")
    for malformed in (b"", b"\x01", b"\x02" + sealed[1:]):
        with pytest.raises(SecretUnreadableError):
            box.open(malformed, context="user:7")


def test_digests_are_keyed_and_stable() -> None:
    assert box.digest("abcde-fghij") == box.digest("abcde-fghij")
    assert box.digest("abcde-fghij") != box.digest("abcde-fghik")
    assert AesGcmSecretBox("x" * 32).digest("abcde-fghij") != box.digest("abcde-fghij")
    assert len(box.digest("abcde-fghij")) == 64
