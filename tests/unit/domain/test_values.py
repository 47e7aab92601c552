"""Value objects validate themselves: Email, Username, FullName, RawPassword and roles."""

import dataclasses

import pytest

from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.values import Email, FullName, RawPassword, Role, Username, parse_role

DOMAIN = "@example.com"


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com",
        "a.b+tag%x_y-z@sub.example.co.uk",
        "ADA@EXAMPLE.COM",
        "1@2.io",
    ],
)
def test_email_accepts_addresses_matching_the_contract_pattern(address: str) -> None:
    assert Email(address).value == address.lower()


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@example.c",
        "ada@example.c0m",
        "ada lovelace@example.com",
        "ada@@example.com",
        "ada@exam_ple.com",
        "adä@example.com",
        "ada@example.com\n",
        " ada@example.com",
    ],
)
def test_email_rejects_addresses_outside_the_pattern_naming_the_email_field(address: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        Email(address)
    assert caught.value.field == "email"


def test_email_of_254_characters_is_accepted() -> None:
    address = "a" * (254 - len(DOMAIN)) + DOMAIN
    assert len(Email(address).value) == 254


def test_email_of_255_characters_is_rejected() -> None:
    address = "a" * (255 - len(DOMAIN)) + DOMAIN
    with pytest.raises(InvalidValueError) as caught:
        Email(address)
    assert caught.value.field == "email"


def test_email_is_stored_lower_cased_so_case_variants_are_equal() -> None:
    assert Email("Ada.Lovelace@Example.COM").value == "ada.lovelace@example.com"
    assert Email("ADA@example.com") == Email("ada@EXAMPLE.com")


def test_email_local_part_is_the_lower_cased_text_before_the_at_sign() -> None:
    assert Email("Ada.L+news@Example.com").local_part == "ada.l+news"


def test_email_is_immutable() -> None:
    email = Email("ada@example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        email.value = "eve@example.com"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["abc", "a" * 50, "Ada_L0", "___", "123"])
def test_username_accepts_3_to_50_letters_digits_and_underscores(name: str) -> None:
    assert Username(name).value == name


@pytest.mark.parametrize(
    "name",
    ["", "ab", "a" * 51, "ada-l", "ada l", "ada.l", "ada@l", "ädam", "ada\n", "ada\t"],
)
def test_username_rejects_other_lengths_and_characters_naming_the_username_field(name: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        Username(name)
    assert caught.value.field == "username"


def test_username_keeps_its_case_but_its_canonical_form_is_lower_cased() -> None:
    username = Username("Ada_Lovelace")
    assert username.value == "Ada_Lovelace"
    assert username.canonical == "ada_lovelace"
    assert Username("ADA_LOVELACE").canonical == username.canonical


@pytest.mark.parametrize("text", ["", "Ada Lovelace", "x" * 200])
def test_full_name_accepts_up_to_200_characters(text: str) -> None:
    assert FullName(text).value == text


def test_full_name_of_201_characters_is_rejected_naming_the_full_name_field() -> None:
    with pytest.raises(InvalidValueError) as caught:
        FullName("x" * 201)
    assert caught.value.field == "full_name"


def test_raw_password_repr_and_str_hide_the_value() -> None:
    password = RawPassword("Sup3rSecretValue")
    assert "Sup3rSecretValue" not in repr(password)
    assert "Sup3rSecretValue" not in str(password)
    assert "Sup3rSecretValue" not in f"{password!r} {password}"


def test_raw_password_keeps_the_value_for_the_hasher() -> None:
    assert RawPassword("Sup3rSecretValue").value == "Sup3rSecretValue"


@pytest.mark.parametrize("text", ["", "x", "x" * 128])
def test_raw_password_checks_only_the_maximum_length(text: str) -> None:
    assert RawPassword(text).value == text


def test_raw_password_over_128_characters_is_rejected_naming_the_password_field() -> None:
    with pytest.raises(InvalidValueError) as caught:
        RawPassword("x" * 129)
    assert caught.value.field == "password"
    assert "x" * 129 not in caught.value.message


@pytest.mark.parametrize(
    ("text", "role"),
    [("admin", Role.ADMIN), ("moderator", Role.MODERATOR), ("user", Role.USER)],
)
def test_parse_role_maps_each_role_name(text: str, role: Role) -> None:
    assert parse_role(text) is role


@pytest.mark.parametrize("text", ["", "ADMIN", "Admin", "root", "superuser", " user"])
def test_parse_role_rejects_unknown_names_naming_the_role_field(text: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_role(text)
    assert caught.value.field == "role"
