"""Hostile input (CONTRACT §2): every input of every operation of `/openapi.json`, on both engines.

Each test sends a whole table of cases through one app (see `hostile_support` for the tables and
how each answer is judged) and fails with the list of every case that went wrong: a 5xx, a status
other than the contract's, a 4xx outside the envelope, a refused request that changed something,
an `api_error` log line, or a log line holding a hash, a password or a token.
"""

import itertools
import json
from typing import Any

import pytest

from tests.e2e.conftest import Account, Api
from tests.e2e.hostile_probe import (
    Caller,
    Prober,
    account_secrets,
    assert_no_problems,
    captured_logs,
    engine_of,
)
from tests.e2e.hostile_support import (
    JSON_HEADERS,
    PATH_VALUES,
    QUERY_VALUES,
    Case,
    Operation,
    body_cases,
    kind_of,
    leaves,
    operations,
    path_cases,
    query_cases,
)

# One test per family of routes, each over /api/v1 and /api/v2; "unprefixed" replays the cases of
# fixed status on the paths without /api/vN (§6) and covers the routes outside /api.
GROUPS = ["users", "orders", "auth", "account", "unprefixed"]
ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}
FIXED = {"nul", "not-utf8", "not-utf8-in-field", "deep-33-arrays", "deep-32-objects", "over-1mib"}
ANONYMOUS = Caller("anonymous", {})


def group_of(op: Operation) -> str:
    """The test that covers an operation; a new route lands in one of them by its path."""
    for version in ("v1", "v2"):
        prefix = f"/api/{version}"
        if op.template.startswith(prefix + "/"):
            rest = op.template.removeprefix(prefix)
            if rest.startswith("/users/{user_id}/orders"):
                return "orders"
            if rest.startswith("/users") and "sessions" not in rest and "/tokens" not in rest:
                return "users"
            if rest in {"/auth/token", "/auth/refresh", "/auth/logout"}:
                return "auth"
            return "account"  # lifecycle, sessions, audit, and whatever comes next
    return "unprefixed"


_DOCUMENT: list[Any] = []


async def document(api: Api) -> Any:
    """The app's /openapi.json, read once per process (the same code serves the same document, §7)."""
    if not _DOCUMENT:
        response = await api.client.get("/openapi.json")
        assert response.status_code == 200
        _DOCUMENT.append(response.json())
    return _DOCUMENT[0]


async def world(api: Api) -> tuple[Account, Account, dict[str, str]]:
    """An admin, a plain user with one pending order, and the ids that fill path templates."""
    admin = await api.admin()
    target = await api.create_account("user")
    created = await api.client.post(f"/api/v1/users/{target.id}/orders", json=ORDER, headers=admin.auth)
    assert created.status_code == 201, created.text
    sessions = await api.client.get("/api/v1/users/me/sessions", headers=admin.auth)
    assert sessions.status_code == 200, sessions.text
    ids = {
        "user_id": str(target.id),
        "order_id": str(created.json()["id"]),
        "session_id": str(sessions.json()["items"][0]["id"]),
    }
    return admin, target, ids


def ends_a_session(op: Operation) -> bool:
    return op.template.endswith("/auth/logout")


def cases_of(op: Operation, ids: dict[str, str], counter: "itertools.count[int]") -> list[Case]:
    return [*path_cases(op, ids), *query_cases(op, ids), *body_cases(op, ids, counter)]


def unprefixed(case: Case, version: str) -> Case:
    """The case on the path without `/api/vN`, the version named by `X-API-Version`."""
    headers = {**case.headers, "X-API-Version": version[1:]}
    url = case.url.removeprefix(f"/api/{version}")
    return Case(case.place, case.value, case.method, url, case.content, case.chunked, headers, case.expect)


@pytest.mark.parametrize("group", GROUPS)
async def test_hostile_values_in_every_input_of_every_operation(
    api: Api, group: str, request: pytest.FixtureRequest
) -> None:
    with captured_logs() as logs:
        admin, target, ids = await world(api)
        prober = Prober(api, engine_of(request))
        counter = itertools.count(1)
        everything = operations(await document(api))
        fresh: list[Account] = []

        async def as_admin(op: Operation, case: Case) -> None:
            caller = Caller("admin", admin.auth)
            if ends_a_session(op):  # a log-out that succeeds must not end the admin's session
                fresh.append(await api.create_account())
                caller = Caller("fresh-account", fresh[-1].auth)
                await prober.resync()
            await prober.send(case, caller)

        if group == "unprefixed":
            for op in everything:
                if group_of(op) == "unprefixed":
                    for case in cases_of(op, ids, counter):
                        await as_admin(op, case)
                    continue
                version = op.template.split("/")[2]
                for case in cases_of(op, ids, counter):
                    if case.value in FIXED:
                        await as_admin(op, unprefixed(case, version))
        else:
            for op in [op for op in everything if group_of(op) == group]:
                for case in cases_of(op, ids, counter):
                    await as_admin(op, case)
                if op.public:
                    for case in body_cases(op, ids, counter):
                        await prober.send(case, ANONYMOUS)

    assert_no_problems(prober, logs, account_secrets(admin, target, *fresh))


def arabic_indic(number: int) -> str:
    return "".join(chr(0x0660 + int(digit)) for digit in str(number))


def fullwidth(number: int) -> str:
    return "".join(chr(0xFF10 + int(digit)) for digit in str(number))


def if_none_match_values(current: int) -> list[tuple[str, bytes]]:
    """Validators that must not match version `current` (nor crash the server)."""
    return [
        ("two-pow-31", f'"v{2**31}"'.encode()),  # past a 32-bit version column
        ("two-pow-63-minus-1", f'"v{2**63 - 1}"'.encode()),
        ("two-pow-63", f'"v{2**63}"'.encode()),
        ("two-pow-64", f'"v{2**64}"'.encode()),
        ("ten-pow-30", f'"v{10**30}"'.encode()),
        ("superscript-two-latin1", '"v²"'.encode("latin-1")),
        ("superscript-two-utf8", '"v²"'.encode()),
        ("superscript-current-latin1", f'"v{current}²"'.encode("latin-1")),
        ("arabic-indic-current", f'"v{arabic_indic(current)}"'.encode()),
        ("fullwidth-current", f'"v{fullwidth(current)}"'.encode()),
        ("list-of-overflows", f'"v²", "v{2**63}", "v-1"'.encode("latin-1")),
    ]


def if_match_values(current: int) -> list[tuple[str, bytes]]:
    """If-Match compares strongly (RFC 9110 §13.1.1): the weak form of the current tag fails too."""
    return [*if_none_match_values(current), ("weak-current", f'W/"v{current}"'.encode())]


async def current_version(api: Api, prober: Prober, admin: Account, path: str) -> int:
    response = await api.client.get(path, headers=admin.auth)
    so_far = "\n".join(prober.problems)
    assert response.status_code == 200, f"{path} is gone ({response.text}); problems so far:\n{so_far}"
    etag = response.headers["etag"]
    assert etag.startswith('"v')
    return int(etag[2:-1])


async def test_if_match_and_if_none_match_that_do_not_fit_answer_412_and_change_nothing(
    api: Api, request: pytest.FixtureRequest
) -> None:
    with captured_logs() as logs:
        admin, target, ids = await world(api)
        prober = Prober(api, engine_of(request))
        caller = Caller("admin", admin.auth)
        user_body = {"email": "replaced@example.com", "username": "replaced_name", "full_name": "Replaced"}
        for version in ("v1", "v2"):
            user = f"/api/{version}/users/{ids['user_id']}"
            order = f"{user}/orders/{ids['order_id']}"
            writes = [  # the deletions last: a wrong match must not hide the cases after it
                ("PATCH", order, {"status": "cancelled"}),
                ("DELETE", order, None),
                ("PUT", user, user_body),
                ("PATCH", user, {"full_name": "Patched"}),
                ("DELETE", user, None),
            ]
            for method, path, body in writes:
                for value, header in if_match_values(await current_version(api, prober, admin, path)):
                    content = None if body is None else json.dumps(body).encode()
                    headers: dict[str, str | bytes] = {**JSON_HEADERS, "If-Match": header}
                    case = Case("if-match", value, method, path, content, False, headers, frozenset({412}))
                    await prober.send(case, caller)
            for path in (user, order):
                for value, header in if_none_match_values(await current_version(api, prober, admin, path)):
                    headers = {"If-None-Match": header}
                    case = Case("if-none-match", value, "GET", path, None, False, headers, frozenset({200}))
                    await prober.send(case, caller)
    assert_no_problems(prober, logs, account_secrets(admin, target))


async def test_the_suite_sees_every_input_of_the_document(api: Api) -> None:
    """A guard on the walker: the inputs named by the contract are found, so none is skipped silently."""
    found = {op.label: op for op in operations(await document(api))}
    sign_up = found["POST /api/v1/users"]
    assert sign_up.public
    assert sign_up.body is not None
    fields = {leaf.name: kind_of(leaf.schema) for leaf in leaves(sign_up.body)}
    strings = dict.fromkeys(["email", "username", "password", "full_name", "role"], "string")
    expected = {**strings, "is_active": "boolean"}
    assert {name: fields.get(name) for name in expected} == expected
    order = found["POST /api/v1/users/{user_id}/orders"]
    assert order.body is not None
    assert {leaf.name for leaf in leaves(order.body)} >= {"items.0.sku", "items.0.quantity", "currency"}
    assert found["POST /api/v1/auth/token"].form is not None
    listing = found["GET /api/v1/users"]
    assert {p.name for p in listing.params("query")} >= {"page", "page_size", "search", "sort", "role"}
    assert {group_of(op) for op in found.values()} == set(GROUPS)
    assert {h.id for h in QUERY_VALUES} >= {"nul", "two-pow-63", "superscript-two", "hundred-kb"}
    assert {h.id for h in PATH_VALUES} >= {"two-pow-63", "superscript-two", "minus-one", "zero"}
