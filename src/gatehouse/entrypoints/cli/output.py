"""What the CLI prints: JSON encoded as the API encodes it, times as the API writes them, warnings."""

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


def utc(moment: datetime) -> datetime:
    """`moment` in UTC (a naive time is UTC already: that is how Gatehouse stores time)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def print_json(value: Any) -> None:
    """One line of JSON through msgspec, the HTTP layer's encoder, so a time reads as in the API
    (`2026-11-25T20:45:01.123456Z`), never `+00:00`."""
    print(msgspec.json.encode(value).decode())


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """How a command lists things: as one JSON array (`json_of` each), or as a table (`header`,
    then one `row` each)."""

    json_of: Callable[[T], Any]
    header: str
    row: Callable[[T], str]

    def print(self, items: Sequence[T], as_json: bool) -> None:
        if as_json:
            print_json([self.json_of(item) for item in items])
            return
        print(self.header)
        for item in items:
            print(self.row(item))


def table_time(moment: datetime) -> str:
    """A time for a table column: to the second, in UTC, with the API's `Z`."""
    return f"{utc(moment):%Y-%m-%dT%H:%M:%S}Z"


def warn(message: str) -> None:
    print(f"gatehouse: warning: {message}", file=sys.stderr)
