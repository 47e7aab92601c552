"""One use case per class, each owning its transaction, all of one shape.

- Dependencies (ports) come in through `__init__`; the business rules are the class docstring.
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
