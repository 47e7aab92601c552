"""The readiness use case: the database decides up or down; Redis only degrades."""

from dataclasses import dataclass

import pytest

from gatehouse.application.use_cases.readiness import CheckReadiness


@dataclass
class Service:
    up: bool
    asked: int = 0

    async def answers(self) -> bool:
        self.asked += 1
        return self.up


async def test_ok_when_the_database_answers_and_no_redis_is_configured() -> None:
    readiness = await CheckReadiness(Service(up=True), None).execute()
    assert readiness.status == "ok"
    assert readiness.checks == {"database": "ok", "redis": "disabled"}


@pytest.mark.parametrize(
    ("database_up", "redis_up", "status", "checks"),
    [
        (True, True, "ok", {"database": "ok", "redis": "ok"}),
        (True, False, "degraded", {"database": "ok", "redis": "down"}),
        (False, True, "down", {"database": "down", "redis": "ok"}),
        (False, False, "down", {"database": "down", "redis": "down"}),
    ],
)
async def test_the_database_decides_and_redis_degrades(
    database_up: bool, redis_up: bool, status: str, checks: dict[str, str]
) -> None:
    database, redis = Service(up=database_up), Service(up=redis_up)
    readiness = await CheckReadiness(database, redis).execute()
    assert readiness.status == status
    assert readiness.checks == checks
    assert (database.asked, redis.asked) == (1, 1)
