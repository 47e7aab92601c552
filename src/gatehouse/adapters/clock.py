"""The real clock: UTC, aware datetimes."""

from datetime import UTC, datetime

from gatehouse.application.ports import Clock


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)
