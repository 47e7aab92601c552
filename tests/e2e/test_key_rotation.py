"""Rotating the signing key (§13) with no one signed out, on real servers restarted as README's
"Rotating the signing key" says: generate a new key, move the old one to
GATEHOUSE_JWT_PREVIOUS_KEYS, restart. Tokens of the old key keep working and verify from the JWKS
(which lists both keys) with another JOSE library; once the old key is no longer listed, 401."""

import json
import shutil
import warnings
from dataclasses import dataclass

import httpx
import jwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet, KeySetSerialization

from tests.e2e.cli_support import Cli
from tests.gatehouse_server import GatehouseServer, bearer, log_in, migrated_server, sign_up

SECRET = "a-key-rotation-test-secret-of-more-than-32-bytes"
PREVIOUS = "var/jwt_previous.pem"


@dataclass
class Rotation:
    kid_a: str
    kid_b: str
    token_a: str
    jwks_before: KeySetSerialization
    jwks_after: KeySetSerialization
    me_with_a_after: httpx.Response
    refreshed_after: httpx.Response
    me_with_a_retired: httpx.Response
    me_with_b_retired: httpx.Response


def generate_key(cli: Cli) -> str:
    return str(json.loads(cli.ok("keys", "generate"))["kid"])


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


@pytest.fixture(scope="module")
def rotation(tmp_path_factory: pytest.TempPathFactory) -> Rotation:
    cwd = tmp_path_factory.mktemp("key-rotation")
    kid_a = generate_key(Cli(cwd))
    with migrated_server(cwd, GATEHOUSE_JWT_SECRET=SECRET, GATEHOUSE_JWT_ALGORITHM="EdDSA") as first:
        first.start()
        with httpx.Client(base_url=first.url, timeout=10) as client:
            sign_up(client, "rotated")
            pair_a = log_in(client, "rotated")
            jwks_before = client.get("/.well-known/jwks.json").json()

    # The rotation: the old key moved aside and listed as previous, a new one in its place.
    shutil.move(cwd / "var" / "jwt_private.pem", cwd / PREVIOUS)
    kid_b = generate_key(Cli(cwd))
    with GatehouseServer(cwd, {**first.settings, "GATEHOUSE_JWT_PREVIOUS_KEYS": PREVIOUS}) as second:
        second.start()
        with httpx.Client(base_url=second.url, timeout=10) as client:
            me_a = client.get("/api/v1/users/me", headers=bearer(pair_a["access_token"]))
            refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair_a["refresh_token"]})
            jwks_after = client.get("/.well-known/jwks.json").json()

    with GatehouseServer(cwd, first.settings) as third:  # the old key no longer listed
        third.start()
        with httpx.Client(base_url=third.url, timeout=10) as client:
            me_a_retired = client.get("/api/v1/users/me", headers=bearer(pair_a["access_token"]))
            me_b_retired = client.get("/api/v1/users/me", headers=bearer(refreshed.json()["access_token"]))
    return Rotation(
        kid_a,
        kid_b,
        pair_a["access_token"],
        jwks_before,
        jwks_after,
        me_a,
        refreshed,
        me_a_retired,
        me_b_retired,
    )


def test_before_rotation_the_jwks_lists_the_one_key_that_signs(rotation: Rotation) -> None:
    assert [key["kid"] for key in rotation.jwks_before["keys"]] == [rotation.kid_a]
    assert kid_of(rotation.token_a) == rotation.kid_a


def test_after_rotation_a_token_of_the_old_key_still_works(rotation: Rotation) -> None:
    assert rotation.me_with_a_after.status_code == 200, rotation.me_with_a_after.text
    assert rotation.me_with_a_after.json()["username"] == "rotated"


def test_after_rotation_the_jwks_lists_the_new_key_then_the_old(rotation: Rotation) -> None:
    assert [key["kid"] for key in rotation.jwks_after["keys"]] == [rotation.kid_b, rotation.kid_a]
    assert rotation.kid_a != rotation.kid_b


def test_after_rotation_new_tokens_are_signed_with_the_new_key(rotation: Rotation) -> None:
    assert rotation.refreshed_after.status_code == 200, rotation.refreshed_after.text
    assert kid_of(rotation.refreshed_after.json()["access_token"]) == rotation.kid_b


def test_after_rotation_both_keys_tokens_verify_with_joserfc_from_the_jwks_alone(rotation: Rotation) -> None:
    key_set = KeySet.import_key_set(rotation.jwks_after)
    tokens = [rotation.token_a, rotation.refreshed_after.json()["access_token"]]

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)  # RFC 9864's rename
        decoded = [jose_jwt.decode(token, key_set, algorithms=["EdDSA"]) for token in tokens]

    assert [d.header["kid"] for d in decoded] == [rotation.kid_a, rotation.kid_b]
    assert all(d.claims["iss"] == "gatehouse" and d.claims["aud"] == "gatehouse-api" for d in decoded)


def test_once_the_old_key_is_no_longer_listed_its_tokens_get_401(rotation: Rotation) -> None:
    assert rotation.me_with_a_retired.status_code == 401, rotation.me_with_a_retired.text
    assert rotation.me_with_b_retired.status_code == 200, rotation.me_with_b_retired.text
