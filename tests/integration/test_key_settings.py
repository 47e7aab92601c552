"""GATEHOUSE_JWT_ALGORITHM, GATEHOUSE_JWT_PRIVATE_KEY and GATEHOUSE_JWT_PREVIOUS_KEYS (§1, §13):
read by `load_settings`, the keys checked by `require_signing_keys`; every refusal names the
variable and never shows a key."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatehouse.adapters.signing_keys import thumbprint
from gatehouse.entrypoints.key_settings import require_signing_keys
from gatehouse.entrypoints.settings import Settings, SettingsError, load_settings
from tests.token_forgery import private_pem, public_pem

SECRET = "a-settings-test-secret-of-more-than-32-bytes"


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default key file, `var/jwt_private.pem`, resolves inside tmp_path."""
    monkeypatch.chdir(tmp_path)


def load(**variables: str) -> Settings:
    return load_settings({"GATEHOUSE_JWT_SECRET": SECRET, **variables}, dotenv=None)


def refusal(settings: Settings) -> str:
    with pytest.raises(SettingsError) as refused:
        require_signing_keys(settings)
    return str(refused.value)


def assert_shows_no_key(message: str, *pems: bytes) -> None:
    for pem in pems:
        for line in pem.decode().splitlines():
            if not line.startswith("-----"):
                assert line[:16] not in message, message


def write_key(path: str, pem: bytes) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(pem)
    return path


def test_the_defaults_are_hs256_with_no_key_and_no_previous_keys() -> None:
    settings = load()

    assert (settings.jwt_algorithm, settings.jwt_private_key, settings.jwt_previous_keys) == (
        "HS256",
        None,
        (),
    )
    assert require_signing_keys(settings) is None


@pytest.mark.parametrize(("raw", "spelled"), [("eddsa", "EdDSA"), ("ES256", "ES256"), ("hs256", "HS256")])
def test_the_algorithm_is_taken_in_any_case(raw: str, spelled: str) -> None:
    assert load(GATEHOUSE_JWT_ALGORITHM=raw).jwt_algorithm == spelled


@pytest.mark.parametrize("raw", ["RS256", "none", "HS512", "Ed25519"])
def test_another_algorithm_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="GATEHOUSE_JWT_ALGORITHM") as refused:
        load(GATEHOUSE_JWT_ALGORITHM=raw)

    assert "EdDSA" in str(refused.value)


def test_hs256_reads_no_key_even_a_broken_one() -> None:
    write_key("var/jwt_private.pem", b"not a key")

    settings = load(GATEHOUSE_JWT_PREVIOUS_KEYS="missing.pem")

    assert require_signing_keys(settings) is None


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_without_a_key_the_refusal_names_the_variable_the_file_and_the_command(algorithm: str) -> None:
    message = refusal(load(GATEHOUSE_JWT_ALGORITHM=algorithm))

    assert "GATEHOUSE_JWT_PRIVATE_KEY" in message
    assert "var/jwt_private.pem" in message
    assert f"gatehouse keys generate --algorithm {algorithm}" in message


def test_the_key_comes_from_the_variable_before_the_file() -> None:
    in_file, in_variable = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    write_key("var/jwt_private.pem", private_pem(in_file))

    from_file = require_signing_keys(load(GATEHOUSE_JWT_ALGORITHM="EdDSA"))
    from_variable = require_signing_keys(
        load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PRIVATE_KEY=private_pem(in_variable).decode())
    )

    assert from_file is not None
    assert from_variable is not None
    assert from_file.kid == thumbprint(in_file.public_key())
    assert from_variable.kid == thumbprint(in_variable.public_key())


def test_a_key_with_its_line_breaks_written_as_backslash_n_is_read() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    one_line = private_pem(key).decode().replace("\n", "\\n")

    ring = require_signing_keys(load(GATEHOUSE_JWT_ALGORITHM="ES256", GATEHOUSE_JWT_PRIVATE_KEY=one_line))

    assert ring is not None
    assert ring.kid == thumbprint(key.public_key())


@pytest.mark.parametrize(
    ("algorithm", "key", "words"),
    [
        ("EdDSA", rsa.generate_private_key(public_exponent=65537, key_size=2048), ["RSA", "Ed25519"]),
        ("ES256", ec.generate_private_key(ec.SECP384R1()), ["P-384", "P-256"]),
        ("ES256", ed25519.Ed25519PrivateKey.generate(), ["Ed25519", "P-256"]),
    ],
    ids=["rsa-for-eddsa", "p384-for-es256", "ed25519-for-es256"],
)
def test_a_private_key_of_the_wrong_kind_is_refused_naming_the_variable(
    algorithm: str, key: object, words: list[str]
) -> None:
    pem = private_pem(key)
    in_variable = refusal(load(GATEHOUSE_JWT_ALGORITHM=algorithm, GATEHOUSE_JWT_PRIVATE_KEY=pem.decode()))
    write_key("var/jwt_private.pem", pem)
    in_file = refusal(load(GATEHOUSE_JWT_ALGORITHM=algorithm))

    for message in (in_variable, in_file):
        assert "GATEHOUSE_JWT_PRIVATE_KEY" in message
        for word in words:
            assert word in message
        assert_shows_no_key(message, pem)
    assert "var/jwt_private.pem" in in_file


@pytest.mark.parametrize("text", ["hello", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"])
def test_a_private_key_that_is_not_a_pem_key_is_refused_without_repeating_it(text: str) -> None:
    message = refusal(load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PRIVATE_KEY=text))

    assert "GATEHOUSE_JWT_PRIVATE_KEY is not a PEM private key" in message
    assert "AAAA" not in message
    assert "hello" not in message


def test_a_public_key_given_as_the_private_key_is_refused() -> None:
    pem = public_pem(ed25519.Ed25519PrivateKey.generate())

    message = refusal(load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PRIVATE_KEY=pem.decode()))

    assert "GATEHOUSE_JWT_PRIVATE_KEY is not a PEM private key" in message
    assert_shows_no_key(message, pem)


def test_a_default_key_file_that_cannot_be_read_is_refused_naming_the_variable() -> None:
    Path("var/jwt_private.pem").mkdir(parents=True)  # a folder where the file should be

    message = refusal(load(GATEHOUSE_JWT_ALGORITHM="EdDSA"))

    assert "GATEHOUSE_JWT_PRIVATE_KEY" in message
    assert "var/jwt_private.pem cannot be read" in message


def test_previous_keys_public_or_private_verify_and_are_published_after_the_current_one() -> None:
    current, old, older = (ed25519.Ed25519PrivateKey.generate() for _ in range(3))
    write_key("var/jwt_private.pem", private_pem(current))
    write_key("keys/old.pem", private_pem(old))
    write_key("keys/older.pub", public_pem(older))

    ring = require_signing_keys(
        load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PREVIOUS_KEYS=" keys/old.pem , keys/older.pub")
    )

    assert ring is not None
    assert [jwk.kid for jwk in ring.public_keys()] == [
        thumbprint(k.public_key()) for k in (current, old, older)
    ]


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_a_previous_key_that_cannot_be_read_is_refused_naming_the_variable_and_the_path(make: str) -> None:
    write_key("var/jwt_private.pem", private_pem(ed25519.Ed25519PrivateKey.generate()))
    if make == "folder":
        Path("keys/old.pem").mkdir(parents=True)

    message = refusal(load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PREVIOUS_KEYS="keys/old.pem"))

    assert message.startswith("GATEHOUSE_JWT_PREVIOUS_KEYS: cannot read keys/old.pem")


@pytest.mark.parametrize(
    "pem",
    [b"garbage", private_pem(ec.generate_private_key(ec.SECP256R1()))],
    ids=["not-a-key", "es256-key-in-eddsa-mode"],
)
def test_a_previous_key_gatehouse_cannot_verify_with_is_refused_without_showing_it(pem: bytes) -> None:
    write_key("var/jwt_private.pem", private_pem(ed25519.Ed25519PrivateKey.generate()))
    write_key("keys/old.pem", pem)

    message = refusal(load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PREVIOUS_KEYS="keys/old.pem"))

    assert message.startswith("GATEHOUSE_JWT_PREVIOUS_KEYS: keys/old.pem ")
    assert_shows_no_key(message, pem)


def test_the_private_key_never_shows_in_the_settings_repr() -> None:
    pem = private_pem(ed25519.Ed25519PrivateKey.generate()).decode()

    settings = load(GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PRIVATE_KEY=pem)

    assert settings.jwt_private_key == pem.strip()
    assert pem.splitlines()[1] not in repr(settings)
    assert "EdDSA" in repr(settings)


def test_the_key_variables_earn_no_warning_where_they_are_read() -> None:
    settings = load(
        GATEHOUSE_JWT_ALGORITHM="EdDSA", GATEHOUSE_JWT_PRIVATE_KEY="x", GATEHOUSE_JWT_PREVIOUS_KEYS="y"
    )

    assert settings.warnings == ()


def test_with_hs256_a_key_setting_is_a_warning_that_it_is_ignored() -> None:
    settings = load(
        GATEHOUSE_JWT_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n",
        GATEHOUSE_JWT_PREVIOUS_KEYS="y",
    )

    reason = "is ignored: GATEHOUSE_JWT_ALGORITHM is HS256 (tokens are signed with the secret)"
    assert settings.warnings == (
        f"GATEHOUSE_JWT_PRIVATE_KEY {reason}",
        f"GATEHOUSE_JWT_PREVIOUS_KEYS {reason}",
    )
    assert "MC4CAQ" not in " ".join(settings.warnings)
