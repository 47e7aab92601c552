"""Hostile input (CONTRACT §2, §3) as properties: random text — surrogates, control characters,
NUL, every Unicode category — as a sign-up's email, username or full name, and as a search.

Each answer is judged against the contract's own rules (the oracle below), on both engines: a
NUL is 422 in a body and 400 in a query, a lone surrogate is refused, text within the rules is
accepted and read back exactly as sent (email lower-cased), anything else is 422. Hypothesis runs
derandomised (the same examples on every run and every xdist worker) with no example database.
"""

import re
import string
from itertools import count
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

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
    NEW_PASSWORD,
    Case,
    post,
)

EMAIL = re.compile(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")
USERNAME = re.compile(r"[A-Za-z0-9_]{3,50}")
# Every code point, surrogates and control characters included, and the ones that matter most.
ANY_CHARACTER = st.characters(exclude_categories=())
TRICKY = st.sampled_from(
    [
        "\x00",
        "\ud800",
        "\udfff",
        "\u202e",
        "\u00b2",
        "\u0663",
        "\n",
        "%",
        "_",
        "\\",
        "\u0130",
        "\u00df",
        "\u212a",
    ]
)
SHORT = st.text(st.one_of(ANY_CHARACTER, TRICKY), max_size=60)
TEXT = SHORT | st.text(ANY_CHARACTER, min_size=190, max_size=260)  # across the bounds of 200 and 254
# Random text, and mostly-valid shapes (so that the accepting side of the oracle is exercised too),
# each about as likely as the others.
VALUES = st.one_of(
    SHORT,
    st.text(ANY_CHARACTER, min_size=190, max_size=260),
    st.from_regex(EMAIL, fullmatch=True),
    st.builds(
        "{}@{}.{}".format,
        st.text(st.sampled_from(string.ascii_letters + "._%+-") | TRICKY, min_size=1, max_size=20),
        st.text(st.sampled_from(string.ascii_lowercase + ".-") | TRICKY, min_size=1, max_size=12),
        st.text(st.sampled_from(string.ascii_letters) | TRICKY, min_size=2, max_size=4),
    ),
    st.from_regex(USERNAME, fullmatch=True),
    st.text(st.sampled_from(string.ascii_letters + string.digits + "_") | TRICKY, max_size=55),
)
HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SURROGATE = re.compile("[\ud800-\udfff]")
JSON = {"Content-Type": "application/json"}


def json_text(value: str) -> str:
    """A JSON string literal for any str, a lone surrogate included (as its `\\uXXXX` escape)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(escape(c) for c in escaped) + '"'


def escape(character: str) -> str:
    if character >= " " and not SURROGATE.match(character):
        return character
    return f"\\u{ord(character):04x}"


def sign_up_expectation(field: str, value: str) -> frozenset[int]:
    if SURROGATE.search(value):  # malformed JSON (400) comes before a NUL (422)
        return frozenset({400, 422})
    if "\x00" in value:
        return frozenset({422})
    valid = {
        "email": EMAIL.fullmatch(value) is not None and len(value) <= 254,
        "username": USERNAME.fullmatch(value) is not None,
        "full_name": len(value) <= 200,
    }[field]
    return frozenset({201, 409}) if valid else frozenset({422})


class SignUps:
    """Unique valid fields for every example, so that only the field under test can be wrong."""

    def __init__(self) -> None:
        self.numbers = count(1)

    def body(self, field: str, value: str) -> bytes:
        n = next(self.numbers)
        fields = {
            "email": json_text(f"prop{n}@example.com"),
            "username": json_text(f"prop_{n}"),
            "password": json_text(NEW_PASSWORD),
            field: json_text(value),
        }
        return ("{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}").encode()


@pytest.fixture
def sign_ups() -> SignUps:
    return SignUps()


@pytest.mark.parametrize("field", ["email", "username", "full_name"])
@HYPOTHESIS
@given(value=VALUES)
@example(value="a\x00b")  # the explicit examples run first: a known bug fails fast, without shrinking
@example(value="a\ud800b")
@example(value="Ada\u202e Lovelace")
async def test_random_text_in_a_sign_up_field_is_judged_by_the_contracts_rules(
    api: Api, sign_ups: SignUps, field: str, request: pytest.FixtureRequest, value: str
) -> None:
    prober = Prober(api, engine_of(request))
    with captured_logs() as logs:
        body = sign_ups.body(field, value)
        case = post(
            f"body:{field}", repr(value)[:60], "/api/v1/users", body, JSON, sign_up_expectation(field, value)
        )
        response = await prober.send(case, Caller("anonymous", {}))
        if response.status_code == 201:
            stored = response.json()[field]
            wanted = value.lower() if field == "email" else value
            if stored != wanted:
                prober.problems.append(f"{field} {value!r} was stored as {stored!r}")
    assert_no_problems(prober, logs, [NEW_PASSWORD])


def search_expectation(value: str) -> frozenset[int]:
    if SURROGATE.search(value):  # not UTF-8 once percent-decoded: refused, or read as U+FFFD
        return frozenset({200, 400}) if "\x00" not in value else frozenset({400})
    if "\x00" in value:
        return frozenset({400})
    return frozenset({200}) if len(value) <= 254 else frozenset({400})


def matches(term: str, *texts: str | None) -> bool:
    """A case-insensitive substring, under any of the usual foldings (engines differ beyond ASCII)."""
    folds = (str.lower, str.casefold, lambda s: s.translate(ASCII_LOWER))
    return any(fold(term) in fold(text) for text in texts if text is not None for fold in folds)


ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@pytest.fixture
async def searcher(api: Api) -> Account:
    """An admin, and accounts whose names hold what a search could mishandle (LIKE wildcards,
    a backslash, letters whose case folds differently)."""
    admin = await api.admin()
    for name in ("Ada Lovelace", "Ünïcødé İstanbul Straße", "100% _literal_ \\ back"):
        account = await api.create_account()
        patch = {"full_name": name}
        patched = await api.client.patch(f"/api/v1/users/{account.id}", json=patch, headers=admin.auth)
        assert patched.status_code == 200, patched.text
    return admin


@HYPOTHESIS
@given(value=TEXT)
@example(value="a\x00b")
@example(value="a\ud800b")
@example(value="%")
@example(value="_")
async def test_random_text_as_a_search_is_refused_or_finds_only_what_contains_it(
    api: Api, searcher: Account, request: pytest.FixtureRequest, value: str
) -> None:
    prober = Prober(api, engine_of(request))
    with captured_logs() as logs:
        encoded = quote(value, safe="", errors="surrogatepass")
        url = f"/api/v1/users?page_size=100&search={encoded}"
        case = Case("query:search", repr(value)[:60], "GET", url, expect=search_expectation(value))
        response = await prober.send(case, Caller("admin", searcher.auth))
        if response.status_code == 200 and not SURROGATE.search(value):
            for user in response.json()["items"]:
                if not matches(value, user["email"], user["username"], user["full_name"]):
                    prober.problems.append(
                        f"search {value!r} found {user['username']!r}, {user['full_name']!r}"
                    )
    assert_no_problems(prober, logs, account_secrets(searcher))
