"""A token's name is printed in lists, tables and terminals: the rule, and the schema that states it."""

import msgspec
import pytest

from gatehouse.application.use_cases.api_tokens import token_name
from gatehouse.domain.errors import InvalidValueError
from gatehouse.entrypoints.http.schemas.api_tokens import ApiTokenIn

SHOWN = [
    ("deploy script", "deploy script"),
    ("  padded  ", "padded"),
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f468\u200d\U0001f469\u200d\U0001f467"),  # ZWJ
    ("\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),  # Hebrew, no override
    ("\u6f22" * 100, "\u6f22" * 100),
    ("a\u0301", "a\u0301"),
]
REFUSED = [
    "",
    "   ",
    "\u00a0",  # no-break space only
    "\u200b",  # zero-width space only
    "\u2060\ufeff",  # word joiner and BOM only
    "\u3164",  # Hangul filler
    "a\u2028b",  # a line separator
    "a\nb",
    "tab\there",
    "x\n",
    "\u202eevil",  # a right-to-left override
    "\u2066isolated",
    "del\x7f",
    "c1\x85",
    "x" * 101,
]


@pytest.mark.parametrize(("name", "stored"), SHOWN)
def test_a_name_with_something_to_show_is_kept_trimmed(name: str, stored: str) -> None:
    assert token_name(name) == stored
    body = msgspec.json.encode({"name": name, "scopes": ["profile:read"]})
    assert msgspec.json.decode(body, type=ApiTokenIn).name == name


@pytest.mark.parametrize("name", REFUSED)
def test_a_blank_invisible_or_controlling_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        token_name(name)
    assert refused.value.field == "name"


@pytest.mark.parametrize("name", [n for n in REFUSED if not n.endswith("\n")])
def test_the_schema_refuses_what_the_rule_refuses(name: str) -> None:
    """The schema states the same pattern, so a generated client (or the fuzzer) agrees with the
    server; a trailing line break passes Python's `$` there and is refused by the rule (422 too)."""
    body = msgspec.json.encode({"name": name, "scopes": ["profile:read"]})
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body, type=ApiTokenIn)
