"""One use case per class, each owning its transaction, all of one shape.

- A use case is a frozen dataclass: its fields are its dependencies (ports and settings), which the
  generated `__init__` takes (ADR 0024); the business rules are the class docstring. A use case
  whose only dependencies are the unit of work and the clock inherits them from `OverUnitOfWork`
  (below). One that builds a helper from its dependencies (`Login`: the throttle and its notice)
  writes its own `__init__`.
- One public entry, `async def execute(self, request)`, where `request` is the use case's own
  nested frozen dataclass: `Command` when it changes something, `Query` when it only reads.
- Listings come in two kinds, named alike for every resource: `List…` answers a numbered
  `Page` (items and total) for a `…PageQuery`; `Browse…` answers a `KeysetPage` (items and
  where the next page resumes) for a `…KeysetQuery` (or `AuditQuery`), whose `scope()` is what
  a cursor of that walk is bound to.
- Exceptions: scheduled chores and probes with nothing to ask (`DeliverPendingMail`,
  `PruneExpiredRows`, `RunHousekeeping`, `PruneAuditEvents`, `CheckReadiness`) take no request:
  `execute()`. The creating use cases
  (`RegisterUser`, `CreateOrder`) also take an optional `after_create` hook, run inside their
  transaction, through which `IdempotentCreation` (application/idempotency.py) stores its answer.
"""

from dataclasses import dataclass

from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class OverUnitOfWork:
    """The base of a use case that needs only a unit of work and a clock."""

    uow: UnitOfWork
    clock: Clock
