"""Password strength: the classic composition policy and the NIST SP 800-63B policy."""

import pytest

from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.passwords import ClassicPasswordPolicy, NistPasswordPolicy
from gatehouse.domain.values import Email, RawPassword, Username

EMAIL = Email("Ada.Lovelace@example.com")
USERNAME = Username("Ada_L")
COMMON = frozenset({"passwordpassword1", "qwertyuiopasdfgh"})


def classic(text: str) -> None:
    ClassicPasswordPolicy().check(RawPassword(text), email=EMAIL, username=USERNAME)


def nist(text: str) -> None:
    NistPasswordPolicy(COMMON).check(RawPassword(text), email=EMAIL, username=USERNAME)


@pytest.mark.parametrize("text", ["Abcdef12", "Secret123", "zZ9" + "x" * 125])
def test_classic_policy_accepts_8_to_128_characters_with_upper_lower_and_digit(text: str) -> None:
    classic(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "8-128"),
        ("Abcde12", "8-128"),
        ("secret123", "upper-case"),
        ("SECRET123", "lower-case"),
        ("SecretPass", "digit"),
        ("12345678", "upper-case"),
    ],
)
def test_classic_policy_rejects_weak_passwords_naming_the_password_field(text: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as caught:
        classic(text)
    assert caught.value.field == "password"


def test_classic_policy_does_not_look_at_the_email_or_username() -> None:
    classic("Ada_L" + "Lovelace1")


@pytest.mark.parametrize(
    "text",
    [
        "correct horse battery",
        "x" * 15,
        "y" * 128,
        "no digits or capitals here",
    ],
)
def test_nist_policy_accepts_15_to_128_characters_without_composition_rules(text: str) -> None:
    nist(text)


@pytest.mark.parametrize("text", ["", "Secret123", "fourteen chars"])
def test_nist_policy_rejects_fewer_than_15_characters(text: str) -> None:
    with pytest.raises(InvalidValueError, match="15-128") as caught:
        nist(text)
    assert caught.value.field == "password"


@pytest.mark.parametrize("text", ["passwordpassword1", "PasswordPassword1", "QWERTYUIOPASDFGH"])
def test_nist_policy_rejects_common_passwords_compared_lower_cased(text: str) -> None:
    with pytest.raises(InvalidValueError, match="common") as caught:
        nist(text)
    assert caught.value.field == "password"


@pytest.mark.parametrize(
    "text",
    [
        "my ada.lovelace secret",
        "my ADA.LOVELACE secret",
        "prefix-ada_l-suffix-long",
        "prefix-ADA_L-suffix-long",
    ],
)
def test_nist_policy_rejects_passwords_containing_the_email_local_part_or_username(text: str) -> None:
    with pytest.raises(InvalidValueError, match="email or username") as caught:
        nist(text)
    assert caught.value.field == "password"


def test_nist_policy_does_not_reject_the_email_domain() -> None:
    nist("example.com is a fine domain")
