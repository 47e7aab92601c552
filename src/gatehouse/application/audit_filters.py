"""The audit trail's filters as the drivers receive them (text), parsed once for the HTTP API and the CLI."""

from datetime import UTC, datetime

from gatehouse.application.ports.audit import AuditAction


class AuditFilterError(Exception):
    """A filter value that names no action or no instant; each driver words its own message."""

    def __init__(self, name: str, raw: str) -> None:
        super().__init__(f"{name}: {raw!r}")
        self.name = name
        self.raw = raw


def parse_action(raw: str | None) -> AuditAction | None:
    """One action name (`user.created`, …); None when absent."""
    if raw is None:
        return None
    try:
        return AuditAction(raw)
    except ValueError:
        raise AuditFilterError("action", raw) from None


def parse_since(raw: str | None, *, naive_is_utc: bool = False) -> datetime | None:
    """An ISO 8601 instant, in UTC; None when absent.

    A time without an offset (or a bare date) names no instant: an error, or UTC when
    `naive_is_utc`. A moment outside the calendar once moved to UTC (year 1 at +14:00) is an error.
    """
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise AuditFilterError("since", raw) from None
    if not naive_is_utc:
        raise AuditFilterError("since", raw)
    return moment.replace(tzinfo=UTC)
