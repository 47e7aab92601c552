"""The real clock: UTC, aware datetimes."""

from datetime import UTC, datetime

from gatehouse.application.ports.clock import Clock


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)
