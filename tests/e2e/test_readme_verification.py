"""README's "Verifying Gatehouse's tokens in another service", run as written against a real
`gatehouse serve` in EdDSA mode: each ```python block (PyJWT's PyJWKClient, joserfc) verifies a
token the server issued from its JWK Set alone, and refuses one signed with the shared secret."""

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from joserfc.errors import SecurityWarning

from tests.e2e.cli_support import Cli
from tests.gatehouse_server import log_in, migrated_server, sign_up

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### Verifying Gatehouse's tokens in another service"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
README_BASE = "http://127.0.0.1:8000"
SECRET = "a-readme-verification-secret-of-more-than-32-bytes"


def snippets() -> list[str]:
    readme = README.read_text()
    start = readme.index(SECTION)
    end = readme.find("\n## ", start)
    found = BLOCK.findall(readme[start:end])
    assert len(found) == 2, "the section shows PyJWT and joserfc"
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    cwd = tmp_path_factory.mktemp("readme-verification")
    Cli(cwd).ok("keys", "generate")
    with migrated_server(cwd, GATEHOUSE_JWT_SECRET=SECRET, GATEHOUSE_JWT_ALGORITHM="EdDSA") as server:
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            user = sign_up(client, "verified")
            token = log_in(client, "verified")["access_token"]
        yield server.url, {"token": token, "user": user}


def verifier(snippet: str, base_url: str) -> Callable[[str], dict[str, Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(snippet.replace(README_BASE, base_url), str(README), "exec"), namespace)  # noqa: S102
    verify: Callable[[str], dict[str, Any]] = namespace["verify"]
    return verify


@pytest.mark.parametrize("index", [0, 1], ids=["pyjwt", "joserfc"])
def test_the_readmes_snippet_verifies_a_token_from_the_jwks_alone(
    served: tuple[str, dict[str, Any]], index: int
) -> None:
    base_url, issued = served
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)  # RFC 9864's rename
        verify = verifier(snippets()[index], base_url)
        claims = verify(issued["token"])
        kid = jwt.get_unverified_header(issued["token"])["kid"]
        forged = jwt.encode({**claims, "sub": "1"}, SECRET, algorithm="HS256", headers={"kid": kid})
        with pytest.raises(Exception):  # noqa: B017, PT011 - each library has its own error
            verify(forged)

    assert claims["sub"] == str(issued["user"]["id"])
    assert (claims["iss"], claims["aud"]) == ("gatehouse", "gatehouse-api")
