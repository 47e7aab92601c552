"""The audit filters as text, parsed once for both drivers: actions; instants with or without an offset."""

from datetime import UTC, datetime

import pytest

from gatehouse.application.audit_filters import AuditFilterError, parse_action, parse_since
from gatehouse.application.ports.audit import AuditAction


def test_an_absent_filter_is_none() -> None:
    assert parse_action(None) is None
    assert parse_since(None) is None
    assert parse_since(None, naive_is_utc=True) is None


def test_an_action_name_is_that_action() -> None:
    assert parse_action("user.created") is AuditAction.USER_CREATED


def test_an_unknown_action_names_the_filter() -> None:
    with pytest.raises(AuditFilterError) as caught:
        parse_action("user.exploded")
    assert (caught.value.name, caught.value.raw) == ("action", "user.exploded")


def test_a_time_with_an_offset_is_that_instant_in_utc() -> None:
    assert parse_since("2026-01-31T14:00:00+02:00") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_since("2026-01-31T14:00:00+02:00", naive_is_utc=True) == datetime(
        2026, 1, 31, 12, tzinfo=UTC
    )


@pytest.mark.parametrize("raw", ["2026-01-31T12:00:00", "2026-01-31"])
def test_a_time_without_an_offset_is_refused_unless_taken_as_utc(raw: str) -> None:
    with pytest.raises(AuditFilterError) as caught:
        parse_since(raw)
    assert caught.value.name == "since"
    moment = parse_since(raw, naive_is_utc=True)
    assert moment is not None
    assert moment.tzinfo is UTC
    assert moment.replace(tzinfo=None) == datetime.fromisoformat(raw)


@pytest.mark.parametrize("naive_is_utc", [False, True])
@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "0001-01-01T00:00:00+14:00"])
def test_text_that_names_no_instant_is_refused(raw: str, naive_is_utc: bool) -> None:
    with pytest.raises(AuditFilterError):
        parse_since(raw, naive_is_utc=naive_is_utc)
