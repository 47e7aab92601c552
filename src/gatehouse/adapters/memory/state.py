"""The in-memory database's tables: plain dicts, deep-copied per unit of work."""

from dataclasses import dataclass, field

from gatehouse.application.order_ports import IdempotencyRecord
from gatehouse.application.ports import RefreshRecord
from gatehouse.domain.order import Order
from gatehouse.domain.user import Session, User


@dataclass
class MemoryState:
    users: dict[int, User] = field(default_factory=dict)
    sessions: dict[int, Session] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        self.next_id[table] = self.next_id.get(table, 0) + 1
        return self.next_id[table]
