"""The operator's maintenance commands: `gatehouse audit list|prune`, `mail deliver` and `db prune`."""

import argparse
import sys
from dataclasses import replace
from datetime import datetime
from typing import Any

from gatehouse.application.audit_filters import AuditFilterError, parse_action, parse_since
from gatehouse.application.ports.audit import AuditAction, AuditEvent, AuditQuery
from gatehouse.application.use_cases.audit_trail import BrowseAuditEvents
from gatehouse.application.use_cases.deliver_mail import DeliveryReport
from gatehouse.domain.policy import Actor
from gatehouse.entrypoints.cli.output import Listing, print_json, table_time, utc
from gatehouse.entrypoints.container import Container

OPERATOR = Actor.operator()
PAGE = 100
MAX_PASSES = 10_000  # a bound on `mail deliver`, far above any real outbox


class BadOptionError(Exception):
    """An option value the command cannot use; `message` says which and why, on one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def since_option(raw: str | None) -> datetime | None:
    """ISO 8601; a time without an offset (or a bare date) is taken as UTC."""
    try:
        return parse_since(raw, naive_is_utc=True)
    except AuditFilterError:
        raise BadOptionError(f"--since: not an ISO 8601 date or time: {raw!r}") from None


def action_option(raw: str | None) -> AuditAction | None:
    try:
        return parse_action(raw)
    except AuditFilterError:
        names = ", ".join(a.value for a in AuditAction)
        raise BadOptionError(f"--action: unknown action {raw!r} (one of: {names})") from None


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": utc(event.at),
        "action": event.action,
        "actor_id": event.actor_id,
        "user_id": event.user_id,
        "ip": event.ip,
        "request_id": event.request_id,
        "details": dict(event.details),
    }


EVENTS = Listing(
    event_json,
    f"{'ID':>7}  {'AT':<25} {'ACTION':<30} {'USER':>6} {'ACTOR':>6}  IP",
    lambda e: (
        f"{e.id:>7}  {table_time(e.at):<25} {e.action:<30} "
        f"{e.user_id if e.user_id is not None else '-':>6} "
        f"{e.actor_id if e.actor_id is not None else '-':>6}  {e.ip or '-'}"
    ),
)


async def audit_list(container: Container, args: argparse.Namespace) -> int:
    query = AuditQuery(
        limit=PAGE, action=action_option(args.only_action), user_id=args.user, since=since_option(args.since)
    )
    events: list[AuditEvent] = []
    while True:
        page = await container.browse_audit_events().execute(
            BrowseAuditEvents.Query(actor=OPERATOR, keyset=query)
        )
        events.extend(page.items)
        if page.next_after is None:
            break
        query = replace(query, after=page.next_after)
    EVENTS.print(events, args.json)
    return 0


async def audit_prune(container: Container, args: argparse.Namespace) -> int:
    result = await container.prune_audit_events().execute()
    print(f"deleted {result.deleted} audit events older than {result.retention_days} days")
    return 0


async def mail_deliver(container: Container, args: argparse.Namespace) -> int:
    """Passes until nothing due is left; a mail whose attempt failed waits for its retry time."""
    total = DeliveryReport()
    for _ in range(MAX_PASSES):
        report = await container.deliver_mail().execute()
        total = DeliveryReport(
            sent=total.sent + report.sent,
            failed=total.failed + report.failed,
            dropped=total.dropped + report.dropped,
            errors=total.errors + tuple(e for e in report.errors if e not in total.errors),
        )
        if not (report.sent or report.failed):
            break
    waiting = await container.mail_queue().depth()
    print(
        f"sent {total.sent}, failed {total.failed} (retried later), "
        f"dropped {total.dropped} (older than 24 hours); {waiting} waiting"
    )
    if total.errors:
        more = f" (and {len(total.errors) - 1} other reasons)" if len(total.errors) > 1 else ""
        print(f"gatehouse: error: mail not delivered: {total.errors[0]}{more}", file=sys.stderr)
    return 1 if total.failed else 0


async def db_prune(container: Container, args: argparse.Namespace) -> int:
    """What housekeeping deletes, now and whoever holds its lease (deleting twice is harmless)."""
    report = await container.prune_expired_rows().execute()
    print_json(report.counts())
    return 0


COMMANDS = {
    ("db", "prune"): db_prune,
    ("audit", "list"): audit_list,
    ("audit", "prune"): audit_prune,
    ("mail", "deliver"): mail_deliver,
}
