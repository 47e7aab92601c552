"""In-memory twins of the audit trail: the writer inside a unit of work, the read side and pruning."""

from datetime import datetime

from gatehouse.adapters.memory.fakes import FixedOrigin
from gatehouse.adapters.memory.state import MemoryState, OverDatabase, OverState
from gatehouse.application.ports.audit import (
    AuditEvent,
    AuditQueries,
    AuditQuery,
    AuditTrail,
    NewAuditEvent,
    OriginSource,
)
from gatehouse.application.ports.paging import KeysetPage, after_id, keyset_page


class InMemoryAuditTrail(OverState, AuditTrail):
    def __init__(self, state: MemoryState, origin: OriginSource | None) -> None:
        super().__init__(state)
        self._origin = origin or FixedOrigin()

    async def record(self, event: NewAuditEvent) -> None:
        origin = self._origin.current()
        event_id = self._s.new_id("audit_events")
        self._s.audit_events[event_id] = AuditEvent(id=event_id, **event.stored_fields(origin))


class InMemoryAuditQueries(OverDatabase, AuditQueries):
    async def keyset(self, query: AuditQuery) -> KeysetPage[AuditEvent]:
        found = [
            e
            for e in sorted(self._db.state.audit_events.values(), key=lambda e: e.id, reverse=True)
            if (query.after is None or e.id < query.after.id)
            and (query.action is None or e.action == query.action.value)
            and (query.user_id is None or e.user_id == query.user_id)
            and (query.since is None or e.at >= query.since)
        ]
        return keyset_page(found, query.limit, after_id)

    async def prune(self, before: datetime) -> int:
        async with self._db.writer:
            return self._prune(before)

    def _prune(self, before: datetime) -> int:
        old = [eid for eid, e in self._db.state.audit_events.items() if e.at < before]
        for eid in old:
            del self._db.state.audit_events[eid]
        return len(old)
