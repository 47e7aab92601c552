"""Route of the audit trail: `GET /audit-events`, newest first, by cursor (in v1 and v2 alike)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gatehouse.application.ports.audit import AuditAction, AuditQuery
from gatehouse.application.use_cases.audit_trail import ListAuditEvents
from gatehouse.entrypoints.http.auth import BEARER_SECURITY, require_actor
from gatehouse.entrypoints.http.conditional import parse_id
from gatehouse.entrypoints.http.cursors import CursorCodec
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.lifecycle_schemas import AuditPageOut, audit_event_out
from gatehouse.entrypoints.http.listing import Cursor, Limit, require_plain_integers
from gatehouse.entrypoints.http.openapi import describe
from gatehouse.entrypoints.http.params import ID_SCHEMA
from gatehouse.entrypoints.http.problems import BadRequestError, FieldProblem

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


def parse_action(raw: str | None) -> AuditAction | None:
    if raw is None:
        return None
    try:
        return AuditAction(raw)
    except ValueError:
        raise BadRequestError(
            "Unknown action", [FieldProblem("action", f"Expected one of: {', '.join(ACTIONS)}")]
        ) from None


def parse_since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    moment: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw)
        moment = parsed.astimezone(UTC) if parsed.tzinfo else None  # year 1 at +14:00 is no instant
    except (ValueError, OverflowError):
        pass
    if moment is None:
        raise BadRequestError(
            "since must be an ISO 8601 timestamp with a UTC offset",
            [FieldProblem("since", "Expected e.g. 2026-01-31T12:00:00+00:00")],
        )
    return moment


@get(
    "/audit-events",
    tags=["audit"],
    summary="Read the audit trail",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 429, 503),
    description=describe(ListAuditEvents.__doc__),
)
async def list_audit_events(
    request: Request[Any, Any, Any],
    list_audit_events: NamedDependency[ListAuditEvents],
    cursors: NamedDependency[CursorCodec],
    limit: Limit = 50,
    cursor: Cursor = None,
    action: ActionFilter = None,
    user_id: UserFilter = None,
    since: Since = None,
) -> Response[AuditPageOut]:
    actor = await require_actor(request)
    require_plain_integers(request, "limit")
    signature = f"audit|{action}|{user_id}|{since}"
    query = AuditQuery(
        limit=limit,
        before_id=cursors.decode(cursor, signature).id if cursor else None,
        action=parse_action(action),
        user_id=parse_id(user_id) if user_id is not None else None,
        since=parse_since(since),
    )
    page = await list_audit_events.execute(actor, query)
    next_cursor = cursors.encode(page.next_after, signature) if page.next_after else None
    body = AuditPageOut(items=[audit_event_out(e) for e in page.items], next_cursor=next_cursor)
    return Response(body, headers={"Cache-Control": "private, no-cache"})


ROUTES = [list_audit_events]
