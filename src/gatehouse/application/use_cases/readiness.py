"""Readiness: may this worker take traffic?"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gatehouse.application.ports.operations import Reachable

Status = Literal["ok", "degraded", "down"]


@dataclass(frozen=True, slots=True)
class Readiness:
    status: Status
    checks: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class CheckReadiness:
    """`ok`; `degraded` while Redis is down (requests are still served: the counters fall back
    to this process); `down` while the database does not answer. Redis is `disabled` when none
    is configured."""

    database: Reachable
    redis: Reachable | None

    async def execute(self) -> Readiness:
        database_ok = await self.database.answers()
        redis = "disabled"
        if self.redis is not None:
            redis = "ok" if await self.redis.answers() else "down"
        status: Status = "ok"
        if not database_ok:
            status = "down"
        elif redis == "down":
            status = "degraded"
        return Readiness(status=status, checks={"database": "ok" if database_ok else "down", "redis": redis})
