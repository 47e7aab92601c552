"""Hostile input (CONTRACT §2) in the OAuth2 log-in form and in request headers.

The form's fields come from `/openapi.json` and get the same treatment as JSON fields: a NUL is
422, bytes that are not UTF-8 are 400, every field is bounded like the JSON log-in. Identifiers
longer than any account could have are refused before the log-in throttle counts them (§5).
Request headers over 16 KiB in all: 431, in the envelope, whichever header makes them so (the
exact bound, and the same through `gatehouse serve`, are in `test_hostile_header_size`).
"""

import itertools
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e.hostile_probe import (
    Caller,
    Prober,
    account_secrets,
    assert_no_problems,
    captured_logs,
    engine_of,
)
from tests.e2e.hostile_support import (
    ANY,
    JSON_HEADERS,
    MIB,
    NEW_PASSWORD,
    Case,
    concrete,
    operations,
    post,
)

TOKEN = "/api/v1/auth/token"
UNAUTHORIZED = frozenset({401})
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ANONYMOUS = Caller("anonymous", {})
# Percent-encoded, as they stand in the form body.
FORM_VALUES: list[tuple[str, str, frozenset[int]]] = [
    ("nul", "a%00b", frozenset({422})),
    ("not-utf8-escaped", "a%FFb", frozenset({400})),
    ("lone-surrogate-escaped", "a%ED%A0%80b", frozenset({400})),
    ("million-chars", "a" * 10**6, frozenset({422})),
    ("rtl-override", "%E2%80%AE", ANY),
    ("superscript-two", "%C2%B2", ANY),
    ("arabic-indic-three", "%D9%A3", ANY),
]


def form_body(fields: dict[str, str]) -> bytes:
    """Already-encoded values joined as a form (so that hostile escapes go through untouched)."""
    return "&".join(f"{name}={value}" for name, value in fields.items()).encode()


async def form_schema(api: Api) -> Any:
    document = (await api.client.get("/openapi.json")).json()
    (token,) = [op for op in operations(document) if op.label == f"POST {TOKEN}"]
    assert token.form is not None, "the log-in documents its OAuth2 form"
    return token.form


def form_cases(schema: Any, counter: "itertools.count[int]") -> list[Case]:
    """Each hostile value in each field of the documented form, then hostile forms as a whole."""

    def base() -> dict[str, str]:
        return {"username": f"hostile{next(counter)}@example.com", "password": NEW_PASSWORD}

    cases = []
    for name, field_schema in schema["properties"].items():
        bound = concrete(field_schema).get("maxLength")
        values = [*FORM_VALUES]
        if bound is not None:
            values.append(("one-past-the-bound", "a" * (int(bound) + 1), frozenset({422})))
        for value, text, expect in values:
            body = form_body({**base(), name: text})
            cases.append(post(f"form:{name}", value, TOKEN, body, FORM, expect))
    padding = "a" * (MIB + 1 - len(form_body(base())) - len("&x="))
    whole: list[tuple[str, bytes, frozenset[int]]] = [
        ("not-utf8", b"username=a\xffb&password=x", frozenset({400})),
        ("missing-password", form_body({"username": "someone@example.com"}), frozenset({422})),
        ("empty", b"", frozenset({400, 422})),
        ("too-many-fields", form_body({**base(), **{f"f{i}": "x" for i in range(40)}}), frozenset({400})),
        ("nul-in-unknown-field", form_body({**base(), "extra": "a%00b"}), frozenset({422})),
        ("nul-in-a-name", form_body({**base(), "ext%00ra": "x"}), frozenset({422})),
        ("repeated-username", b"username=a%40example.com&" + form_body(base()), ANY),
        ("over-1mib", form_body({**base(), "x": padding}), frozenset({413})),
    ]
    for value, body, expect in whole:
        cases.append(post("whole-form", value, TOKEN, body, FORM, expect))
    oversized = form_body({**base(), "x": padding})
    too_large = frozenset({413})
    cases.append(post("whole-form", "over-1mib-chunked", TOKEN, oversized, FORM, too_large, chunked=True))
    return cases


async def test_hostile_values_in_every_field_of_the_log_in_form(
    api: Api, request: pytest.FixtureRequest
) -> None:
    with captured_logs() as logs:
        prober = Prober(api, engine_of(request))
        for case in form_cases(await form_schema(api), itertools.count(1)):
            await prober.send(case, ANONYMOUS)
    assert_no_problems(prober, logs, [NEW_PASSWORD])


def oversized_attempts(identifier: str) -> list[Case]:
    """The same oversized identifier with a wrong password, as a form and as JSON."""
    form = form_body({"username": identifier, "password": NEW_PASSWORD})
    json_body = f'{{"email": "{identifier}", "password": "{NEW_PASSWORD}"}}'.encode()
    value, refused = f"{len(identifier)}-chars", frozenset({422})
    return [
        post("form:username", value, TOKEN, form, FORM, refused),
        post("json:email", value, TOKEN, json_body, JSON_HEADERS, refused),
    ]


@pytest.mark.parametrize("length", [255, 300, 10**6], ids=["255", "300", "million"])
async def test_identifiers_longer_than_any_account_are_refused_before_the_throttle_counts_them(
    api: Api, length: int, request: pytest.FixtureRequest
) -> None:
    """LOGIN_MAX_FAILURES is 5: twelve refusals of one oversized identifier never become a 429, write
    no audit event (the prober checks the database after each), and count nothing for the identifier
    cut to the longest an account may have, nor for the real account the padding starts with."""
    account = await api.create_account()
    identifier = (account.email + "a" * length)[:length]
    with captured_logs() as logs:
        prober = Prober(api, engine_of(request))
        for _ in range(6):
            for case in oversized_attempts(identifier):
                await prober.send(case, ANONYMOUS)
        for cut in (identifier[:254], identifier[:50]):
            # A first failure for an identifier an account could have: 401, not throttled.
            wrong = form_body({"username": cut, "password": NEW_PASSWORD})
            await prober.send(
                post("form:username", f"cut-to-{len(cut)}", TOKEN, wrong, FORM, UNAUTHORIZED), ANONYMOUS
            )
        right = form_body({"username": account.email, "password": account.password})
        case = post("form:username", "the-account", TOKEN, right, FORM, frozenset({200}))
        signed_in = await prober.send(case, ANONYMOUS)
    tokens = [signed_in.json().get("access_token", ""), signed_in.json().get("refresh_token", "")]
    assert_no_problems(prober, logs, [NEW_PASSWORD, *account_secrets(account), *tokens])


HEADER_CASES: list[tuple[str, dict[str, str], frozenset[int]]] = [
    ("one-17-kib-header", {"X-Padding": "a" * 17 * 1024}, frozenset({431})),
    ("two-hundred-100-byte-headers", {f"X-Pad-{i}": "a" * 100 for i in range(200)}, frozenset({431})),
    ("forwarded-for-over-16-kib", {"X-Forwarded-For": ", ".join(["10.0.0.1"] * 2000)}, frozenset({431})),
    ("request-id-over-16-kib", {"X-Request-ID": "r" * 17 * 1024}, frozenset({431})),
    ("15-kib-in-all", {"X-Padding": "a" * 15 * 1024}, ANY),  # the route's own answer (checked below)
]


async def test_request_headers_over_16_kib_in_all_answer_431_in_the_envelope(
    api: Api, request: pytest.FixtureRequest
) -> None:
    admin = await api.admin()
    with captured_logs() as logs:
        prober = Prober(api, engine_of(request))
        for path, fine in (("/health/live", 200), ("/api/v1/users/me", 200), ("/nowhere", 404)):
            for value, headers, expect in HEADER_CASES:
                case = Case(
                    "headers", value, "GET", path, None, False, dict(headers), expect or frozenset({fine})
                )
                await prober.send(case, Caller("admin", admin.auth))
    assert_no_problems(prober, logs, account_secrets(admin))
