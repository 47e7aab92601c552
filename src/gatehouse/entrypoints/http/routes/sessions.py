"""Routes of sessions: one's own (`/users/me/sessions…`), and an admin's sign-out-everywhere."""

from typing import Any

from litestar import Request, Response, delete, get
from litestar.di import NamedDependency

from gatehouse.application.use_cases.my_sessions import ListMySessions, RevokeAllSessions, RevokeMySession
from gatehouse.entrypoints.http.auth import require_actor
from gatehouse.entrypoints.http.ids import SessionIdPath, UserIdPath, parse_id
from gatehouse.entrypoints.http.route_docs import documented_by
from gatehouse.entrypoints.http.schemas.sessions import SessionListOut, session_out

AnyRequest = Request[Any, Any, Any]
TAG = ["sessions"]


@get(
    "/users/me/sessions",
    summary="List one's own sessions",
    **documented_by(ListMySessions, 400, 401, 403, 429, 503, tags=TAG),
)
async def list_my_sessions(
    request: AnyRequest, list_my_sessions: NamedDependency[ListMySessions]
) -> Response[SessionListOut]:
    actor = await require_actor(request)
    views = await list_my_sessions.execute(ListMySessions.Query(actor=actor))
    body = SessionListOut(items=[session_out(v) for v in views])
    return Response(body, headers={"Cache-Control": "private, no-cache"})


@delete(
    "/users/me/sessions/{session_id:str}",
    status_code=204,
    summary="End one of one's own sessions",
    **documented_by(RevokeMySession, 400, 401, 403, 404, 429, 503, tags=TAG),
)
async def revoke_my_session(
    request: AnyRequest, revoke_my_session: NamedDependency[RevokeMySession], session_id: SessionIdPath
) -> None:
    actor = await require_actor(request)
    await revoke_my_session.execute(
        RevokeMySession.Command(actor=actor, session_id=parse_id(session_id, "session_id"))
    )


@delete(
    "/users/{user_id:str}/sessions",
    status_code=204,
    summary="Sign an account out everywhere",
    **documented_by(RevokeAllSessions, 400, 401, 403, 404, 429, 503, tags=TAG),
)
async def revoke_all_sessions(
    request: AnyRequest, revoke_all_sessions: NamedDependency[RevokeAllSessions], user_id: UserIdPath
) -> None:
    actor = await require_actor(request)
    await revoke_all_sessions.execute(RevokeAllSessions.Command(actor=actor, user_id=parse_id(user_id)))


ROUTES = [list_my_sessions, revoke_my_session, revoke_all_sessions]
