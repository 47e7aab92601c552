"""Path and header parameters shared by the routes."""

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

# Parsed by `parse_id` (anything else is a 400); the schema says what it accepts, for clients and fuzzers.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
UserIdPath = Annotated[
    str, PathParameter(description="The account id (a positive integer)", schema_extra=ID_SCHEMA)
]
OrderIdPath = Annotated[
    str, PathParameter(description="The order id (a positive integer)", schema_extra=ID_SCHEMA)
]
IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)]
