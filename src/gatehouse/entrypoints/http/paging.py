"""Query parameters of the list routes' pages: numbered (v1) and by cursor (v2), and their checks."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

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


R = TypeVar("R")


def numbered_page(out: Callable[..., R], items: list[Any], total: int, page: int, page_size: int) -> R:
    """The body `out` of a numbered page: its items, the total, where it is and how many pages."""
    return out(items=items, total=total, page=page, page_size=page_size, total_pages=pages(total, page_size))
