"""Rotating the signing secret (§11) on a real server restarted under new settings: tokens name
their key (`kid`), retired secrets in GATEHOUSE_JWT_PREVIOUS_SECRETS keep verifying, a key no
longer listed is refused, and a short previous secret stops `serve` from starting.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest

from tests.e2e.cli_support import Cli, assert_one_line_error, clean_environment, free_port
from tests.gatehouse_server import GatehouseServer, bearer, log_in, migrated_server, sign_up

SECRET_A = "rotation-secret-A-of-more-than-32-bytes-0001"
SECRET_B = "rotation-secret-B-of-more-than-32-bytes-0002"


def kid(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def header_kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


@dataclass
class Rotation:
    token_a: str
    refresh_a: str
    me_with_a_under_b: httpx.Response
    refreshed_under_b: httpx.Response
    login_under_b: dict[str, str]
    me_with_a_under_b_only: httpx.Response
    me_with_b_under_b_only: httpx.Response


def serve(cwd: Path, **env: str) -> GatehouseServer:
    return GatehouseServer(cwd, {"GATEHOUSE_RATE_LIMIT_PER_MINUTE": "0", **env})


@pytest.fixture(scope="module")
def rotation(tmp_path_factory: pytest.TempPathFactory) -> Rotation:
    cwd = tmp_path_factory.mktemp("rotation")
    with migrated_server(cwd, GATEHOUSE_JWT_SECRET=SECRET_A) as first:
        first.start()
        with httpx.Client(base_url=first.url, timeout=10) as client:
            sign_up(client, "rotated")
            pair_a = log_in(client, "rotated")
        assert first.stop() == 0

    with serve(cwd, GATEHOUSE_JWT_SECRET=SECRET_B, GATEHOUSE_JWT_PREVIOUS_SECRETS=SECRET_A) as second:
        second.start()
        with httpx.Client(base_url=second.url, timeout=10) as client:
            me_a = client.get("/api/v1/users/me", headers=bearer(pair_a["access_token"]))
            refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair_a["refresh_token"]})
            login_b = log_in(client, "rotated")
        assert second.stop() == 0

    with serve(cwd, GATEHOUSE_JWT_SECRET=SECRET_B) as third:
        third.start()
        with httpx.Client(base_url=third.url, timeout=10) as client:
            me_a_only_b = client.get("/api/v1/users/me", headers=bearer(pair_a["access_token"]))
            me_b_only_b = client.get("/api/v1/users/me", headers=bearer(login_b["access_token"]))
    return Rotation(
        pair_a["access_token"], pair_a["refresh_token"], me_a, refreshed, login_b, me_a_only_b, me_b_only_b
    )


def test_a_token_names_its_signing_key_by_the_first_16_hex_digits_of_its_sha256(rotation: Rotation) -> None:
    assert header_kid(rotation.token_a) == kid(SECRET_A)


def test_after_rotation_a_token_signed_with_the_previous_secret_still_works(rotation: Rotation) -> None:
    assert rotation.me_with_a_under_b.status_code == 200, rotation.me_with_a_under_b.text
    assert rotation.me_with_a_under_b.json()["username"] == "rotated"


def test_after_rotation_a_refresh_token_issued_before_still_refreshes(rotation: Rotation) -> None:
    assert rotation.refreshed_under_b.status_code == 200, rotation.refreshed_under_b.text
    assert rotation.refreshed_under_b.json()["refresh_token"] != rotation.refresh_a


def test_after_rotation_new_tokens_are_signed_with_the_new_secret(rotation: Rotation) -> None:
    refreshed = rotation.refreshed_under_b.json()["access_token"]
    assert header_kid(refreshed) == kid(SECRET_B)
    assert header_kid(rotation.login_under_b["access_token"]) == kid(SECRET_B)
    jwt.decode(refreshed, SECRET_B, algorithms=["HS256"], audience="gatehouse-api", issuer="gatehouse")


def test_once_the_old_secret_is_no_longer_listed_its_tokens_get_401(rotation: Rotation) -> None:
    assert rotation.me_with_a_under_b_only.status_code == 401, rotation.me_with_a_under_b_only.text
    assert rotation.me_with_b_under_b_only.status_code == 200, rotation.me_with_b_under_b_only.text


def test_serve_refuses_to_start_with_a_previous_secret_shorter_than_32_bytes(tmp_path: Path) -> None:
    cli = Cli(tmp_path, clean_environment(GATEHOUSE_JWT_SECRET=SECRET_B))
    cli.ok("db", "upgrade")

    result = cli("serve", "--port", str(free_port()), GATEHOUSE_JWT_PREVIOUS_SECRETS=f"{SECRET_A},too-short")

    assert_one_line_error(result, "GATEHOUSE_JWT_PREVIOUS_SECRETS", "32")
