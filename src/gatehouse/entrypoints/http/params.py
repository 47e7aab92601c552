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
# An absent header is None in Python, but a header is never JSON null: the schema is a plain string.
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        # `*` (any current version) too: the one value a client that has not read can send.
        schema_extra={"oneOf": None, "type": "string", "examples": ['"v1"', "*"]},
        description='ETags, e.g. "v3", or *; a list none of which is current: 412',
    ),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match",
        required=False,
        schema_extra={"oneOf": None, "type": "string", "examples": ['"v1"']},
        description='ETags, e.g. "v3", or *; one that is current: 304',
    ),
]
