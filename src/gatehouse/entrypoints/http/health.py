"""Liveness and readiness probes."""

import asyncio
from typing import Literal

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from gatehouse.adapters.redis_counters import RedisCounters
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.entrypoints.http.schemas import HealthOut, ReadinessOut

TAG = ["operations"]
PROBE_TIMEOUT_S = 2.0


@get("/health/live", tags=TAG, summary="The process is running")
async def live() -> HealthOut:
    return HealthOut(status="ok")


async def database_answers(database: NamedDependency[Database]) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), database.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason goes to the logs elsewhere
        return False
    return True


@get(
    "/health/ready",
    tags=TAG,
    summary="The database answers",
    responses={503: ResponseSpec(ReadinessOut, description="The database does not answer")},
)
async def ready(
    database: NamedDependency[Database], shared_counters: NamedDependency[object]
) -> Response[ReadinessOut]:
    """`ok`; `degraded` while Redis is down (still 200: requests are served); `down` (503)
    while the database does not answer."""
    database_ok = await database_answers(database)
    redis = "disabled"
    if isinstance(shared_counters, RedisCounters):
        redis = "ok" if await shared_counters.ping() else "down"
    status: Literal["ok", "degraded", "down"] = "ok"
    if not database_ok:
        status = "down"
    elif redis == "down":
        status = "degraded"
    checks = {"database": "ok" if database_ok else "down", "redis": redis}
    return Response(ReadinessOut(status=status, checks=checks), status_code=503 if status == "down" else 200)


ROUTES = [live, ready]
