"""Route of the audit trail: `GET /audit-events`, newest first, by cursor (in v1 and v2 alike)."""

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gatehouse.application.audit_filters import AuditFilterError, parse_action, parse_since
from gatehouse.application.ports.audit import AuditAction, AuditQuery
from gatehouse.application.use_cases.audit_trail import BrowseAuditEvents
from gatehouse.domain.scopes import Scope
from gatehouse.entrypoints.http.auth import require_actor
from gatehouse.entrypoints.http.cursors import CursorCodec
from gatehouse.entrypoints.http.ids import ID_SCHEMA, parse_id
from gatehouse.entrypoints.http.paging import Cursor, Limit, require_plain_integers
from gatehouse.entrypoints.http.problems import BadRequestError, FieldProblem
from gatehouse.entrypoints.http.route_docs import documented_by
from gatehouse.entrypoints.http.schemas.audit import AuditPageOut, audit_event_out

ACTIONS = [a.value for a in AuditAction]
ActionFilter = Annotated[
    str | None,
    QueryParameter(
        description="One action name",
        # A named schema (openapi_document.py), so a generated client has one enum for both versions.
        schema_extra={"oneOf": None, "type": "string", "enum": ACTIONS, "title": "AuditAction"},
    ),
]
UserFilter = Annotated[
    str | None,
    QueryParameter(description="The account concerned", schema_extra={**ID_SCHEMA, "oneOf": None}),
]
Since = Annotated[
    str | None,
    QueryParameter(
        description="ISO 8601 with a UTC offset; events at or after it",
        schema_extra={"format": "date-time", "type": "string", "oneOf": None},
    ),
]


def action_filter(raw: str | None) -> AuditAction | None:
    try:
        return parse_action(raw)
    except AuditFilterError:
        raise BadRequestError(
            "Unknown action", [FieldProblem("action", f"Expected one of: {', '.join(ACTIONS)}")]
        ) from None


def since_filter(raw: str | None) -> datetime | None:
    try:
        return parse_since(raw)
    except AuditFilterError:
        raise BadRequestError(
            "since must be an ISO 8601 timestamp with a UTC offset",
            [FieldProblem("since", "Expected e.g. 2026-01-31T12:00:00+00:00")],
        ) from None


@get(
    "/audit-events",
    summary="Read the audit trail",
    **documented_by(BrowseAuditEvents, 400, 401, 403, 429, 503, tags=["audit"], scopes=[Scope.AUDIT_READ]),
)
async def list_audit_events(
    request: Request[Any, Any, Any],
    browse_audit_events: NamedDependency[BrowseAuditEvents],
    cursors: NamedDependency[CursorCodec],
    limit: Limit = 50,
    cursor: Cursor = None,
    action: ActionFilter = None,
    user_id: UserFilter = None,
    since: Since = None,
) -> Response[AuditPageOut]:
    actor = await require_actor(request)
    require_plain_integers(request, "limit")
    walk = AuditQuery(
        limit=limit,
        action=action_filter(action),
        user_id=parse_id(user_id) if user_id is not None else None,
        since=since_filter(since),
    )
    keyset = replace(walk, after=cursors.resume(cursor, walk))
    page = await browse_audit_events.execute(BrowseAuditEvents.Query(actor=actor, keyset=keyset))
    next_cursor = cursors.next_cursor(page, walk)
    body = AuditPageOut(items=[audit_event_out(e) for e in page.items], next_cursor=next_cursor)
    return Response(body, headers={"Cache-Control": "private, no-cache"})


ROUTES = [list_audit_events]
