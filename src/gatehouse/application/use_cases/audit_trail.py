"""Read and prune the audit trail."""

from dataclasses import dataclass
from datetime import timedelta

from gatehouse.application.ports.audit import AuditEvent, AuditQueries, AuditQuery
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.paging import KeysetPage
from gatehouse.domain.policy import Actor, check_can_read_audit


class BrowseAuditEvents:
    """Audit events, newest first, filtered by action, account and time.

    - Admins only (403); an API token needs `audit:read`.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        keyset: AuditQuery

    def __init__(self, queries: AuditQueries) -> None:
        self._queries = queries

    async def execute(self, query: Query) -> KeysetPage[AuditEvent]:
        check_can_read_audit(query.actor)
        return await self._queries.keyset(query.keyset)


@dataclass(frozen=True, slots=True)
class PruneResult:
    deleted: int
    retention_days: int


class PruneAuditEvents:
    """Delete audit events older than the retention period (`GATEHOUSE_AUDIT_RETENTION_DAYS`)."""

    def __init__(self, queries: AuditQueries, clock: Clock, retention_days: int) -> None:
        self._queries = queries
        self._clock = clock
        self._retention_days = retention_days

    async def execute(self) -> PruneResult:
        cutoff = self._clock.now() - timedelta(days=self._retention_days)
        return PruneResult(await self._queries.prune(cutoff), self._retention_days)
