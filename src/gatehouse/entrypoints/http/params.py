"""Path and header parameters shared by the routes."""

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

UserIdPath = Annotated[str, PathParameter(description="The account id (a positive integer)")]
OrderIdPath = Annotated[str, PathParameter(description="The order id (a positive integer)")]
IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)]
