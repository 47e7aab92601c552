"""Liveness and readiness probes."""

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from gatehouse.application.use_cases.readiness import CheckReadiness
from gatehouse.entrypoints.http.schemas import HealthOut, ReadinessOut

TAG = ["operations"]


@get("/health/live", tags=TAG, summary="The process is running")
async def live() -> HealthOut:
    return HealthOut(status="ok")


@get(
    "/health/ready",
    tags=TAG,
    summary="The database answers",
    responses={503: ResponseSpec(ReadinessOut, description="The database does not answer")},
)
async def ready(check_readiness: NamedDependency[CheckReadiness]) -> Response[ReadinessOut]:
    """`ok`; `degraded` while Redis is down (still 200: requests are served); `down` (503)
    while the database does not answer."""
    readiness = await check_readiness.execute()
    body = ReadinessOut(status=readiness.status, checks=dict(readiness.checks))
    return Response(body, status_code=503 if readiness.status == "down" else 200)


ROUTES = [live, ready]
