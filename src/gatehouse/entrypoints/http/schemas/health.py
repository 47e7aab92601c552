"""The shapes of the probes (`/health/live`, `/health/ready`)."""

from typing import Literal

import msgspec


class HealthOut(msgspec.Struct):
    status: str


class ReadinessOut(msgspec.Struct):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, str]
