"""The CLI's whole-number arguments: one rule for ids, ports, counts and days.

argparse turns a refusal into one usage line and exit status 2; the value is never `int()` of
thousands of digits (Python refuses more than 4300, leading zeros included: a traceback).
"""

import argparse
from collections.abc import Callable

MAX_ID = 2**63 - 1


def whole_number(raw: str, low: int, high: int) -> int | None:
    """`raw` as ASCII digits within [low, high], else None."""
    digits = raw.lstrip("0")
    if not raw.isascii() or not raw.isdigit() or len(digits) > len(str(high)):
        return None
    value = int(digits or "0")
    return value if low <= value <= high else None


def shown(raw: str) -> str:
    """An argument as an error line quotes it: at most 40 characters of it."""
    return repr(raw[:40] + ("…" if len(raw) > 40 else ""))


def bounded(what: str, low: int, high: int, limits: str | None = None) -> Callable[[str], int]:
    """An argparse `type`: a whole number from `low` to `high`, else "'x' is not <what> (<limits>)"."""
    said = limits or f"a whole number from {low} to {high}"

    def parse(raw: str) -> int:
        value = whole_number(raw, low, high)
        if value is None:
            raise argparse.ArgumentTypeError(f"{shown(raw)} is not {what} ({said})")
        return value

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


account_id = bounded("an account id", 1, MAX_ID)
token_id = bounded("an id", 1, MAX_ID)
port_number = bounded("a TCP port", 1, 65535)
worker_count = bounded("a number of workers", 1, 100_000, "a whole number from 1")
day_count = bounded("a number of days", 0, 999_999, "a whole number")
