"""Per-request context shared by the outer middleware, the handlers and the error handler."""

import os
import re
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from gatehouse.domain.user import User

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
SCOPE_KEY = "gatehouse"


@dataclass(slots=True)
class RequestContext:
    request_id: str
    api_version: str
    path: str
    ip: str | None
    user_id: int | None = None
    user: User | None = None  # the signed-in account, as read by the authentication look-up
    unsupported_version: str | None = None  # an X-API-Version value we don't serve (→ 400)
    started: float = field(default_factory=perf_counter)


def request_id_from(raw: str | None) -> str:
    """The client's own id when it is sane (≤128 visible, URL-safe characters), else a fresh one."""
    if raw and SANE_REQUEST_ID.fullmatch(raw):
        return raw
    return os.urandom(16).hex()


def context_of(scope: Any) -> RequestContext:
    """The context the outer middleware stored; a stand-in when a test drives Litestar directly."""
    ctx = scope.get(SCOPE_KEY)
    if ctx is None:
        client = scope.get("client")
        ctx = RequestContext(
            request_id=os.urandom(16).hex(),
            api_version="1",
            path=scope.get("path", ""),
            ip=client[0] if client else None,
        )
        scope[SCOPE_KEY] = ctx
    assert isinstance(ctx, RequestContext)
    return ctx
