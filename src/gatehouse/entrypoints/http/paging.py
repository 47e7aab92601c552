"""Query parameters of the list routes' pages: numbered (v1) and by cursor (v2), and their checks."""

from typing import Annotated, Any

from litestar import Request
from litestar.params import QueryParameter

from gatehouse.entrypoints.http.problems import BadRequestError, FieldProblem

PageNumber = Annotated[int, QueryParameter(ge=1, le=10**9, description="1-based page number")]
PageSize = Annotated[int, QueryParameter(ge=1, le=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[
    str | None, QueryParameter(max_length=2048, description="next_cursor of the previous page")
]


def require_plain_integers(request: Request[Any, Any, Any], *names: str) -> None:
    """Integers in the query are plain decimal digits: `1.0`, `1e1` or `+1` are 400, not coerced."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise BadRequestError(f"{name} must be an integer", [FieldProblem(name, "Expected an integer")])


def pages(total: int, page_size: int) -> int:
    """How many numbered pages of `page_size` hold `total` items."""
    return -(-total // page_size)
