"""Read and prune the audit trail."""

from dataclasses import dataclass
from datetime import timedelta

from gatehouse.application.ports.audit import AuditEvent, AuditQueries, AuditQuery
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.paging import KeysetPage
from gatehouse.domain.policy import Actor, check_can_read_audit


@dataclass(frozen=True, slots=True)
class BrowseAuditEvents:
    """Audit events, newest first, filtered by action, account and time.

    - Admins only (403); an API token needs `audit:read`.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        keyset: AuditQuery

    queries: AuditQueries

    async def execute(self, query: Query) -> KeysetPage[AuditEvent]:
        check_can_read_audit(query.actor)
        return await self.queries.keyset(query.keyset)


@dataclass(frozen=True, slots=True)
class PruneResult:
    deleted: int
    retention_days: int


@dataclass(frozen=True, slots=True)
class PruneAuditEvents:
    """Delete audit events older than the retention period (`GATEHOUSE_AUDIT_RETENTION_DAYS`)."""

    queries: AuditQueries
    clock: Clock
    retention_days: int

    async def execute(self) -> PruneResult:
        cutoff = self.clock.now() - timedelta(days=self.retention_days)
        return PruneResult(await self.queries.prune(cutoff), self.retention_days)
