"""Ids in paths and queries: their schema, the path parameters, and `parse_id`."""

from typing import Annotated

from litestar.params import PathParameter

from gatehouse.entrypoints.http.problems import BadRequestError

MAX_ID = 2**63 - 1
MAX_DIGITS = len(str(MAX_ID))
# Parsed by `parse_id` (anything else is a 400); the schema says what it accepts, for clients and fuzzers.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
UserIdPath = Annotated[
    str, PathParameter(description="The account id (a positive integer)", schema_extra=ID_SCHEMA)
]
OrderIdPath = Annotated[
    str, PathParameter(description="The order id (a positive integer)", schema_extra=ID_SCHEMA)
]
SessionIdPath = Annotated[
    str, PathParameter(description="The session id (a positive integer)", schema_extra=ID_SCHEMA)
]


def parse_id(raw: str, name: str = "user_id") -> int:
    """A path id: decimal digits within a 64-bit signed integer, else 400."""
    # Digits first, and no more than an int64 has, before `int()`: Python refuses to convert more
    # than 4300 digits (a ValueError, which would be a 500).
    digits = raw.lstrip("0")  # leading zeros count toward that limit too
    if (
        not raw.isascii()
        or not raw.isdigit()
        or len(digits) > MAX_DIGITS
        or not 1 <= int(digits or "0") <= MAX_ID
    ):
        raise BadRequestError(f"Invalid {name}: expected a positive integer", None)
    return int(digits)
