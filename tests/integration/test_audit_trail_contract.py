"""The audit trail (written in a unit of work) and its read side on memory, SQLite and PostgreSQL."""

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gatehouse.adapters.memory.fakes import FixedOrigin
from gatehouse.application.ports.audit import AuditAction, AuditEvent, AuditQuery, NewAuditEvent, Origin
from gatehouse.application.ports.paging import After
from tests.integration.builders import T0, assert_utc, new_user, store_users
from tests.integration.records_support import ALL_BACKENDS, Records, open_records

ORIGIN = Origin(ip="2001:db8::7", request_id="req-7f3a")
H = timedelta(hours=1)
CREATED, LOGIN, FAILED = AuditAction.USER_CREATED, AuditAction.LOGIN_SUCCEEDED, AuditAction.LOGIN_FAILED


@pytest.fixture(params=ALL_BACKENDS)
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Records]:
    async with open_records(request.param, tmp_path) as opened:
        yield opened


def event(
    action: AuditAction,
    user_id: int | None,
    *,
    at: datetime = T0,
    actor_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> NewAuditEvent:
    return NewAuditEvent(at=at, action=action, user_id=user_id, actor_id=actor_id, details=details or {})


async def record(records: Records, *events: NewAuditEvent, origin: Origin = ORIGIN) -> None:
    """Record the events in one committed unit of work, in order (so their ids grow so)."""
    async with records.uow_with_origin(FixedOrigin(origin)) as uow:
        for new in events:
            await uow.audit.record(new)
        await uow.commit()


def below(event_id: int) -> After:
    """Where a newest-first walk resumes: the events with an id below `event_id`."""
    return After(event_id, event_id)


async def everything(records: Records) -> list[AuditEvent]:
    return list((await records.audit.keyset(AuditQuery(limit=1000))).items)


def signature(events: Any) -> list[tuple[str, int | None, datetime]]:
    return [(e.action, e.user_id, e.at) for e in events]


async def test_a_recorded_event_reads_back_whole_stamped_with_the_requests_origin(
    records: Records,
) -> None:
    at = T0 + timedelta(microseconds=5)
    await record(records, event(AuditAction.USER_ROLE_CHANGED, 7, at=at, actor_id=1, details={"to": "admin"}))

    [stored] = await everything(records)

    assert stored == AuditEvent(
        id=stored.id,
        at=at,
        action="user.role_changed",
        actor_id=1,
        user_id=7,
        ip="2001:db8::7",
        request_id="req-7f3a",
        details={"to": "admin"},
    )
    assert_utc(stored.at)


async def test_an_event_outside_any_request_has_no_origin(records: Records) -> None:
    async with records.new_uow() as uow:
        await uow.audit.record(event(CREATED, 1))
        await uow.commit()

    [stored] = await everything(records)
    assert (stored.ip, stored.request_id, stored.actor_id, stored.details) == (None, None, None, {})


async def test_an_event_recorded_in_a_unit_of_work_that_is_not_committed_is_not_kept(
    records: Records,
) -> None:
    await record(records, event(CREATED, 1))

    async with records.uow_with_origin(FixedOrigin(ORIGIN)) as uow:
        await uow.audit.record(event(LOGIN, 1))

    assert signature(await everything(records)) == [("user.created", 1, T0)]


async def test_details_round_trip_as_json(records: Records) -> None:
    details = {
        "email": "zoë@exämple.com",
        "changed": ["email", "full_name"],
        "from": {"full_name": "Åda 日本 ✓", "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}}},
        "count": 3,
        "none": None,
    }

    await record(records, event(AuditAction.USER_UPDATED, 1, details=details))

    [stored] = await everything(records)
    assert stored.details == details


async def test_a_page_is_newest_first_by_id_and_resumes_below_an_id(records: Records) -> None:
    # `at` out of id order on purpose: the order is the id's.
    await record(records, *(event(CREATED, n, at=T0 - n * H) for n in range(1, 6)))

    first = await records.audit.keyset(AuditQuery(limit=2))
    assert [e.user_id for e in first.items] == [5, 4]
    assert first.next_after == After(first.items[-1].id, first.items[-1].id)
    second = await records.audit.keyset(AuditQuery(limit=2, after=below(first.items[-1].id)))
    assert [e.user_id for e in second.items] == [3, 2]
    last = await records.audit.keyset(AuditQuery(limit=2, after=below(second.items[-1].id)))
    assert [e.user_id for e in last.items] == [1]
    assert last.next_after is None
    ids = [e.id for e in (*first.items, *second.items, *last.items)]
    assert ids == sorted(ids, reverse=True)
    exact = await records.audit.keyset(AuditQuery(limit=5))
    assert (len(exact.items), exact.next_after) == (5, None)


async def test_filters_combine(records: Records) -> None:
    await record(
        records,
        event(CREATED, 1, at=T0),
        event(LOGIN, 1, at=T0 + H),
        event(LOGIN, 2, at=T0 + 2 * H),
        event(FAILED, None, at=T0 + 3 * H, details={"email": "nobody@example.com"}),
        event(LOGIN, 1, at=T0 + 4 * H),
        event(LOGIN, 1, at=T0 - H),  # the newest id, the oldest moment
    )

    async def matching(**filters: Any) -> list[tuple[str, int | None, datetime]]:
        return signature((await records.audit.keyset(AuditQuery(limit=100, **filters))).items)

    assert await matching(action=LOGIN) == [
        ("auth.login_succeeded", 1, T0 - H),
        ("auth.login_succeeded", 1, T0 + 4 * H),
        ("auth.login_succeeded", 2, T0 + 2 * H),
        ("auth.login_succeeded", 1, T0 + H),
    ]
    assert await matching(user_id=1) == [
        ("auth.login_succeeded", 1, T0 - H),
        ("auth.login_succeeded", 1, T0 + 4 * H),
        ("auth.login_succeeded", 1, T0 + H),
        ("user.created", 1, T0),
    ]
    assert await matching(since=T0 + 2 * H) == [  # from that moment on, inclusive
        ("auth.login_succeeded", 1, T0 + 4 * H),
        ("auth.login_failed", None, T0 + 3 * H),
        ("auth.login_succeeded", 2, T0 + 2 * H),
    ]
    elsewhere = timezone(timedelta(hours=-5))  # the same moment, written with another offset
    assert await matching(since=(T0 + 2 * H).astimezone(elsewhere)) == await matching(since=T0 + 2 * H)
    assert await matching(action=LOGIN, user_id=1, since=T0) == [
        ("auth.login_succeeded", 1, T0 + 4 * H),
        ("auth.login_succeeded", 1, T0 + H),
    ]
    newest_first = await records.audit.keyset(AuditQuery(limit=100))
    fourth_id = newest_first.items[2].id  # the failed log-in
    assert await matching(action=LOGIN, user_id=1, since=T0, after=below(fourth_id)) == [
        ("auth.login_succeeded", 1, T0 + H),
    ]
    assert await matching(action=AuditAction.USER_DELETED) == []
    page = await records.audit.keyset(AuditQuery(limit=1, action=LOGIN, user_id=1))
    assert signature(page.items) == [("auth.login_succeeded", 1, T0 - H)]
    assert page.next_after is not None


async def test_events_outlive_the_account_they_are_about(records: Records) -> None:
    [ada] = await store_users(records.backend, new_user("ada"))
    await record(records, event(CREATED, ada.id), event(LOGIN, ada.id, at=T0 + H))

    async with records.uow_with_origin(FixedOrigin(ORIGIN)) as uow:
        await uow.users.delete(ada.id, expected_versions=None)
        await uow.audit.record(event(AuditAction.USER_DELETED, ada.id, at=T0 + 2 * H, actor_id=99))
        await uow.commit()

    kept = (await records.audit.keyset(AuditQuery(user_id=ada.id))).items
    assert signature(kept) == [
        ("user.deleted", ada.id, T0 + 2 * H),
        ("auth.login_succeeded", ada.id, T0 + H),
        ("user.created", ada.id, T0),
    ]


async def test_prune_deletes_only_events_older_than_the_cutoff(records: Records) -> None:
    cutoff = T0 - timedelta(days=365)
    await record(
        records,
        event(CREATED, 1, at=cutoff - timedelta(days=1)),
        event(LOGIN, 1, at=T0),
        event(LOGIN, 1, at=cutoff - timedelta(microseconds=1)),
        event(LOGIN, 2, at=cutoff),  # exactly at the cutoff: kept
    )

    assert await records.audit.prune(cutoff) == 2

    assert signature(await everything(records)) == [
        ("auth.login_succeeded", 2, cutoff),
        ("auth.login_succeeded", 1, T0),
    ]
    assert await records.audit.prune(cutoff) == 0
