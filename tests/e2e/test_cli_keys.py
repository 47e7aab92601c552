"""§1, §13 `gatehouse keys generate`, and `serve` under GATEHOUSE_JWT_ALGORITHM=EdDSA|ES256: the key
file's mode, no overwrite, the kid it prints is the one served; every bad key setting is one line."""

import json
import stat
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatehouse.adapters.signing_keys import thumbprint
from tests.e2e.cli_support import (
    DATA_KEY,
    STRONG_SECRET,
    Cli,
    assert_one_line_error,
    clean_environment,
    free_port,
)
from tests.gatehouse_server import log_in, migrated_server, sign_up
from tests.token_forgery import private_pem

KEY_FILE = Path("var/jwt_private.pem")


def generated(cli: Cli, *args: str) -> dict[str, Any]:
    printed: dict[str, Any] = json.loads(cli.ok("keys", "generate", *args))
    return printed


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def kid_of(path: Path) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey)
    return thumbprint(key.public_key())


@pytest.fixture
def migrated(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path, clean_environment(GATEHOUSE_JWT_SECRET=STRONG_SECRET, GATEHOUSE_DATA_KEY=DATA_KEY))
    cli.ok("db", "upgrade")
    return cli


def test_keys_generate_writes_an_eddsa_key_readable_by_its_owner_alone(tmp_path: Path) -> None:
    cli = Cli(tmp_path)  # no secret, no database

    printed = generated(cli)

    key_file = tmp_path / KEY_FILE
    assert printed == {"path": str(KEY_FILE), "algorithm": "EdDSA", "kid": kid_of(key_file)}
    assert mode(key_file) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert isinstance(
        serialization.load_pem_private_key(key_file.read_bytes(), None), ed25519.Ed25519PrivateKey
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["jwt_private.pem", "var"]  # no database


def test_keys_generate_es256_to_a_path_of_ones_choice(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()

    printed = generated(Cli(tmp_path), "--algorithm", "ES256", "--out", "keys/es.pem")

    key_file = tmp_path / "keys" / "es.pem"
    assert printed == {"path": "keys/es.pem", "algorithm": "ES256", "kid": kid_of(key_file)}
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
    assert mode(key_file) == 0o600
    assert not (tmp_path / "var").exists()


def test_keys_generate_refuses_to_overwrite_a_key_in_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    generated(cli)
    before = (tmp_path / KEY_FILE).read_bytes()

    result = cli("keys", "generate")

    line = assert_one_line_error(result, str(KEY_FILE), "exists", "--force")
    assert (tmp_path / KEY_FILE).read_bytes() == before
    assert result.stdout == ""
    assert before.decode().splitlines()[1][:16] not in line


def test_keys_generate_force_replaces_the_key_whole_with_mode_0600(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    first = generated(cli)
    (tmp_path / KEY_FILE).chmod(0o644)

    second = generated(cli, "--force", "--algorithm", "es256")

    assert second["kid"] != first["kid"]
    assert second == {"path": str(KEY_FILE), "algorithm": "ES256", "kid": kid_of(tmp_path / KEY_FILE)}
    assert mode(tmp_path / KEY_FILE) == 0o600
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["jwt_private.pem"]  # no temporary left


@pytest.mark.parametrize(
    ("args", "words", "status"),
    [
        (("--algorithm", "RS256"), ["--algorithm", "RS256", "EdDSA"], 2),
        (("--out", "missing/key.pem"), ["--out", "missing/key.pem"], 1),
    ],
    ids=["unknown-algorithm", "missing-folder"],
)
def test_keys_generate_with_a_bad_option_is_one_line(
    tmp_path: Path, args: tuple[str, ...], words: list[str], status: int
) -> None:
    result = Cli(tmp_path)("keys", "generate", *args)

    assert_one_line_error(result, *words)
    assert result.returncode == status


def test_keys_generate_help_describes_every_option_and_its_default(tmp_path: Path) -> None:
    result = Cli(tmp_path)("keys", "generate", "--help")

    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for words in ("--algorithm", "default: EdDSA", "--out", "default: var/jwt_private.pem", "--force"):
        assert words in text, words


def test_the_printed_kid_is_the_served_jwks_kid_and_the_tokens_kid(tmp_path: Path) -> None:
    printed = generated(Cli(tmp_path))

    with migrated_server(tmp_path, GATEHOUSE_JWT_ALGORITHM="EdDSA") as server:
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            jwks = client.get("/.well-known/jwks.json").json()
            sign_up(client, "keyed")
            token = log_in(client, "keyed")["access_token"]
            me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    assert [key["kid"] for key in jwks["keys"]] == [printed["kid"]]
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": printed["kid"], "typ": "JWT"}
    assert me.status_code == 200, me.text
    assert (tmp_path / KEY_FILE).read_text().splitlines()[1] not in server.output()


# --- serve refuses to start with a key it can't use ------------------------------------------------


def test_serve_in_eddsa_mode_without_a_key_refuses_to_start_in_one_line(migrated: Cli) -> None:
    result = migrated("serve", "--port", str(free_port()), GATEHOUSE_JWT_ALGORITHM="EdDSA")

    assert_one_line_error(result, "GATEHOUSE_JWT_PRIVATE_KEY", "var/jwt_private.pem", "keys generate")
    assert "startup complete" not in (result.stdout + result.stderr).lower()


@pytest.mark.parametrize(
    ("algorithm", "key", "words"),
    [
        ("EdDSA", rsa.generate_private_key(public_exponent=65537, key_size=2048), ["RSA", "Ed25519"]),
        ("ES256", ec.generate_private_key(ec.SECP384R1()), ["P-384", "P-256"]),
    ],
    ids=["rsa-for-eddsa", "p384-for-es256"],
)
def test_serve_with_a_key_of_the_wrong_kind_refuses_in_one_line_without_showing_it(
    migrated: Cli, algorithm: str, key: object, words: list[str]
) -> None:
    pem = private_pem(key).decode()

    result = migrated(
        "serve", "--port", str(free_port()), GATEHOUSE_JWT_ALGORITHM=algorithm, GATEHOUSE_JWT_PRIVATE_KEY=pem
    )

    assert_one_line_error(result, "GATEHOUSE_JWT_PRIVATE_KEY", *words)
    for line in pem.splitlines()[1:-1]:
        assert line not in result.stderr + result.stdout


def test_serve_with_an_unknown_algorithm_refuses_in_one_line(migrated: Cli) -> None:
    result = migrated("serve", "--port", str(free_port()), GATEHOUSE_JWT_ALGORITHM="RS256")

    assert_one_line_error(result, "GATEHOUSE_JWT_ALGORITHM", "RS256", "EdDSA", "ES256")


def test_serve_with_an_unreadable_previous_key_refuses_in_one_line(migrated: Cli) -> None:
    generated(migrated)

    result = migrated(
        "serve",
        "--port",
        str(free_port()),
        GATEHOUSE_JWT_ALGORITHM="EdDSA",
        GATEHOUSE_JWT_PREVIOUS_KEYS="var/retired.pem",
    )

    assert_one_line_error(result, "GATEHOUSE_JWT_PREVIOUS_KEYS", "var/retired.pem")


def test_serve_in_eddsa_mode_still_needs_the_secret(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.ok("db", "upgrade")
    generated(cli)

    result = cli("serve", "--port", str(free_port()), GATEHOUSE_JWT_ALGORITHM="EdDSA")

    assert_one_line_error(result, "GATEHOUSE_JWT_SECRET")
