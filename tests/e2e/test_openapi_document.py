"""§7 the OpenAPI document as a contract of its own: stable bytes, short operation ids, described
tags, Markdown descriptions, named bodies, declared headers, and the methods OPTIONS and 405 list.

The document does not depend on the database engine: these tests build the app on SQLite alone.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, start, test_settings

Json = Any
METHODS = ("get", "put", "post", "patch", "delete")
ID = re.compile(r"^(v2)?[a-zA-Z][a-zA-Z0-9]*$")
CREATES = ["/users", "/users/{user_id}/orders"]
READS = ["/users/me", "/users/{user_id}", "/users/{user_id}/orders/{order_id}"]
WRITES = [
    ("put", "/users/{user_id}"),
    ("patch", "/users/{user_id}"),
    ("delete", "/users/{user_id}"),
    ("patch", "/users/{user_id}/orders/{order_id}"),
    ("delete", "/users/{user_id}/orders/{order_id}"),
]
VERSIONS = ["/api/v1", "/api/v2"]
RATE_LIMIT = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}


@dataclass
class Running:
    client: httpx.AsyncClient
    document: Json


@asynccontextmanager
async def running(
    tmp_path: Path, base_url: str = "http://testserver", **settings: Any
) -> AsyncIterator[Running]:
    container, app = await start(test_settings(tmp_path, **settings))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            response = await client.get("/openapi.json")
            assert response.status_code == 200, response.text
            yield Running(client, response.json())
    finally:
        await container.database().dispose()
        container.hasher().close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Running]:
    async with running(tmp_path) as it:
        yield it


def operations(document: Json) -> list[tuple[str, str, Json]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: Json, node: Json) -> Json:
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def refs(node: Json) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def descriptions(node: Json) -> list[str]:
    if isinstance(node, dict):
        found = [node["description"]] if isinstance(node.get("description"), str) else []
        return found + [text for key, value in node.items() for text in descriptions(value)]
    if isinstance(node, list):
        return [text for item in node for text in descriptions(item)]
    return []


def parameter_names(document: Json, operation: Json, where: str) -> set[str]:
    found = (resolve(document, p) for p in operation.get("parameters", []))
    return {p["name"] for p in found if p["in"] == where}


def answer_headers(operation: Json, status: str) -> set[str]:
    return set(operation["responses"][status].get("headers", {}))


async def test_the_document_is_the_same_bytes_whatever_the_host_port_and_public_url(tmp_path: Path) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    async with running(first_dir, "http://127.0.0.1:8000", public_url="http://127.0.0.1:8000") as first:
        one = (await first.client.get("/openapi.json")).content
        again = (await first.client.get("/openapi.json", headers={"Host": "elsewhere:9"})).content
    async with running(
        second_dir,
        "https://accounts.example.org",
        public_url="https://accounts.example.org/gatehouse",
        rate_limit_per_minute=100,
        cors_origins=("https://app.example.org",),
        trusted_proxies=("10.0.0.0/8",),
    ) as second:
        other = (await second.client.get("/openapi.json")).content

    assert one == again == other
    assert b"127.0.0.1" not in one
    assert b"example.org" not in one
    assert first.document["info"]["version"] == metadata.version("gatehouse")


async def test_the_password_schema_states_the_policy_in_force(tmp_path: Path) -> None:
    async with running(tmp_path, password_policy="nist") as nist:
        password = nist.document["components"]["schemas"]["SignUpIn"]["properties"]["password"]
    assert password["minLength"] == 15
    assert "nist" in password["description"]


async def test_the_default_password_schema_is_the_classic_rule(served: Running) -> None:
    password = served.document["components"]["schemas"]["SignUpIn"]["properties"]["password"]
    pattern = re.compile(password["pattern"])

    assert password["minLength"] == 8
    assert password["maxLength"] == 128
    assert pattern.search(PASSWORD)
    for refused in ("lowercase1", "UPPERCASE1", "NoDigitsHere", "Nul\x00Char1"):
        assert not pattern.search(refused), refused


async def test_every_operation_has_a_short_unique_stable_id(served: Running) -> None:
    ids = {
        (method, path): operation["operationId"] for method, path, operation in operations(served.document)
    }

    assert len(set(ids.values())) == len(ids)
    for (method, path), operation_id in ids.items():
        assert len(operation_id) <= 40, operation_id
        assert ID.fullmatch(operation_id), operation_id
        if path.startswith("/api/v2/"):
            v1 = ids[(method, path.replace("/api/v2/", "/api/v1/", 1))]
            assert operation_id == f"v2{v1[0].upper()}{v1[1:]}"
    assert ids[("post", "/api/v1/users")] == "createUser"
    assert ids[("get", "/api/v2/users")] == "v2ListUsers"
    assert ids[("post", "/api/v1/auth/token")] == "logIn"


async def test_every_operation_has_a_tag_with_a_description(served: Running) -> None:
    tags = {tag["name"]: tag.get("description", "") for tag in served.document["tags"]}

    for method, path, operation in operations(served.document):
        assert operation.get("tags"), (method, path)
        for tag in operation["tags"]:
            assert tags.get(tag, "").strip(), (method, path, tag)


async def test_descriptions_render_as_intended_markdown(served: Running) -> None:
    """A line indented by four spaces (or a tab) would render as a code block."""
    texts = descriptions(served.document)
    assert len(texts) > 100

    for text in texts:
        for line in text.splitlines():
            assert not line.startswith(("    ", "\t")), text


async def test_request_bodies_are_named_schemas_and_every_reference_resolves(served: Running) -> None:
    document = served.document
    for method, path, operation in operations(document):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            assert set(content["schema"]) == {"$ref"}, (method, path, media)
            assert resolve(document, content["schema"])["type"] == "object"
    for ref in refs(document):
        assert ref.startswith("#/components/"), ref
        assert resolve(document, {"$ref": ref}), ref
    login = document["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert set(login) == {"application/json", "application/x-www-form-urlencoded"}


async def test_request_headers_are_declared_where_they_apply(served: Running) -> None:
    document = served.document
    paths = document["paths"]
    for method, path, operation in operations(document):
        assert "X-Request-ID" in parameter_names(document, operation, "header"), (method, path)
    for version in VERSIONS:
        for path in CREATES:
            assert "Idempotency-Key" in parameter_names(document, paths[version + path]["post"], "header")
        for path in READS:
            assert "If-None-Match" in parameter_names(document, paths[version + path]["get"], "header")
        for method, path in WRITES:
            assert "If-Match" in parameter_names(document, paths[version + path][method], "header")


async def test_response_headers_are_declared_on_the_answers_that_carry_them(served: Running) -> None:
    document = served.document
    paths = document["paths"]
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            names = set(answer.get("headers", {}))
            assert "X-Request-ID" in names, (method, path, status)
            if path.startswith("/api/"):
                assert {"X-API-Version", *RATE_LIMIT} <= names, (method, path, status)
            if status in {"429", "503"} and path.startswith("/api/"):
                assert "Retry-After" in names, (method, path, status)
    for version in VERSIONS:
        for path in CREATES:
            assert {"Location", "Idempotent-Replayed"} <= answer_headers(paths[version + path]["post"], "201")
        for path in READS:
            for status in ("200", "304"):
                assert "ETag" in answer_headers(paths[version + path]["get"], status), (path, status)
    for name, header in document["components"]["headers"].items():
        assert header["description"], name
        assert header["schema"], name


async def test_the_security_schemes_offer_the_oauth2_password_flow(served: Running) -> None:
    document = served.document
    schemes = document["components"]["securitySchemes"]
    oauth2 = [scheme for scheme in schemes.values() if scheme["type"] == "oauth2"]

    assert [scheme["flows"]["password"]["tokenUrl"] for scheme in oauth2] == ["/api/v1/auth/token"]
    sign_up = document["paths"]["/api/v1/users"]["post"]["security"]
    assert {} in sign_up
    assert any(requirement for requirement in sign_up)
    me = document["paths"]["/api/v1/users/me"]["get"]["security"]
    assert {} not in me
    assert {name for requirement in me for name in requirement} == set(schemes)


async def test_the_documented_response_headers_are_sent(tmp_path: Path) -> None:
    """The required headers of the answers a sign-up, a read and a 401 get, with the limit on."""
    async with running(tmp_path, rate_limit_per_minute=1000) as served:
        client, paths = served.client, served.document["paths"]
        account = {"email": "headers@example.com", "username": "headers_user", "password": PASSWORD}
        created = await client.post("/api/v1/users", json=account, headers={"Idempotency-Key": "k-1"})
        replayed = await client.post("/api/v1/users", json=account, headers={"Idempotency-Key": "k-1"})
        login = {"email": account["email"], "password": PASSWORD}
        token = (await client.post("/api/v1/auth/token", json=login)).json()["access_token"]
        read = await client.get(created.headers["location"], headers={"Authorization": f"Bearer {token}"})
        refused = await client.get("/api/v1/users/me")

        answers = [
            (created, paths["/api/v1/users"]["post"], "201"),
            (read, paths["/api/v1/users/{user_id}"]["get"], "200"),
            (refused, paths["/api/v1/users/me"]["get"], "401"),
        ]
        for response, operation, status in answers:
            assert response.status_code == int(status), response.text
            for name, header in operation["responses"][status]["headers"].items():
                if resolve(served.document, header).get("required"):
                    assert name.lower() in response.headers, (status, name)
            assert set(operation["responses"][status]["headers"]) >= RATE_LIMIT
            assert {name.lower() for name in RATE_LIMIT} <= set(response.headers)
        assert replayed.headers["idempotent-replayed"] == "true"
        assert re.fullmatch(r'"v[0-9]+"', read.headers["etag"])


async def test_options_and_a_405_list_the_methods_the_document_lists(served: Running) -> None:
    for path, item in served.document["paths"].items():
        documented = {method.upper() for method in item if method in METHODS}
        url = re.sub(r"\{[^}]+\}", "1", path)

        options = await served.client.options(url)
        refused = await served.client.request("TRACE", url)

        assert options.status_code == 204, path
        assert set(options.headers["allow"].split(", ")) == documented | {"OPTIONS"}, path
        assert refused.status_code == 405, path
        assert set(refused.headers["allow"].split(", ")) == documented | {"OPTIONS"}, path
