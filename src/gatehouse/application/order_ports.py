"""Ports of the order aggregate, cursor pages and idempotent creation."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from gatehouse.domain.order import Currency, LineItem, Order, OrderStatus

T = TypeVar("T")
SortValue = int | str | datetime


@dataclass(frozen=True, slots=True)
class NewOrder:
    user_id: int
    currency: Currency
    items: tuple[LineItem, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class After:
    """Where a cursor page resumes: strictly after (sort value, id) in the walk's order."""

    value: SortValue
    id: int


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    items: Sequence[T]
    next_after: After | None


@dataclass(frozen=True, slots=True)
class OrderFilter:
    user_id: int
    status: OrderStatus | None = None


class OrderRepository(Protocol):
    async def add(self, new: NewOrder) -> Order: ...

    async def get(self, order_id: int) -> Order | None: ...

    async def lock(self, order_id: int) -> Order | None:
        """The order, locked until the transaction ends: a status read to check a move is still the
        status when the move is written (no two moves from one status both succeed)."""
        ...

    async def update(self, order: Order, *, expected_versions: Sequence[int] | None) -> Order:
        """Store as version + 1; 412 on a version mismatch (checked in the UPDATE), 404 when gone."""
        ...

    async def delete(self, order_id: int, *, expected_versions: Sequence[int] | None) -> None: ...


class OrderQueries(Protocol):
    async def get(self, order_id: int) -> Order | None: ...

    async def page(self, where: OrderFilter, page: int, page_size: int) -> tuple[Sequence[Order], int]:
        """One numbered page (newest id last) and the total matching."""
        ...

    async def keyset(self, where: OrderFilter, limit: int, after: After | None) -> KeysetPage[Order]: ...


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer to an idempotent request, replayed byte for byte."""

    status: int
    body: bytes = field(repr=False)
    location: str | None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    started_at: datetime
    response: StoredResponse | None


class IdempotencyRepository(Protocol):
    """Keys per caller scope; a record is running until its response is stored."""

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The record, locked against a concurrent claim where the engine can."""
        ...

    async def start(
        self, scope: str, key: str, fingerprint: str, now: datetime, replacing: IdempotencyRecord | None
    ) -> None:
        """Record a running claim, replacing exactly the stale record that was read (if any).

        `ConflictError` when another claim won the race: the key was inserted meanwhile, or the
        record that was read has already been replaced.
        """
        ...

    async def finish(self, scope: str, key: str, response: StoredResponse) -> None: ...

    async def release(self, scope: str, key: str) -> None: ...

    async def purge_older_than(self, moment: datetime) -> int: ...
