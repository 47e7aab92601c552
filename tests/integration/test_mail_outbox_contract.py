"""The mail outbox (written in a unit of work) and the relay's MailQueue on memory, SQLite and PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gatehouse.application.ports.mail import MailMessage, PendingMail
from tests.integration.builders import T0, assert_utc
from tests.integration.records_support import ALL_BACKENDS, MailRow, Records, open_records

US = timedelta(microseconds=1)
LEASE = timedelta(minutes=5)
BODY = "Grüße — follow https://gatehouse.test/account/verify-email?token=abc ✓\r\nline two"


@pytest.fixture(params=ALL_BACKENDS)
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Records]:
    async with open_records(request.param, tmp_path) as opened:
        yield opened


def message(subject: str, body: str = BODY) -> MailMessage:
    return MailMessage(recipient=f"{subject}@example.com", subject=subject, body=body)


async def queue_mails(records: Records, *mails: tuple[str, datetime], deliver: bool = True) -> None:
    """Add (subject, now) mails in one committed unit of work, in order (so their ids grow so)."""
    async with records.new_uow() as uow:
        for subject, now in mails:
            await uow.outbox.add(message(subject), now=now, deliver=deliver)
        await uow.commit()


async def claim(records: Records, now: datetime, *, limit: int = 100) -> Sequence[PendingMail]:
    return await records.queue.claim(now=now, lease_until=now + LEASE, limit=limit)


def subjects(mails: Sequence[PendingMail]) -> list[str]:
    return [m.message.subject for m in mails]


async def row(records: Records, subject: str) -> MailRow:
    stored = await records.mail_row(subject)
    assert stored is not None, subject
    return stored


async def test_a_committed_mail_waits_in_the_queue_due_from_its_commit(records: Records) -> None:
    await queue_mails(records, ("welcome", T0))

    assert await records.queue.depth() == 1
    assert await records.queue.has_due(T0) is True
    assert await records.queue.has_due(T0 - US) is False
    stored = await row(records, "welcome")
    assert (stored.status, stored.body, stored.attempts) == ("pending", BODY, 0)


async def test_a_mail_added_in_a_unit_of_work_that_is_not_committed_is_not_queued(
    records: Records,
) -> None:
    async with records.new_uow() as uow:
        await uow.outbox.add(message("dropped"), now=T0)

    assert await records.queue.depth() == 0
    assert await records.queue.has_due(T0 + timedelta(days=1)) is False
    assert await claim(records, T0 + timedelta(days=1)) == []
    assert await records.mail_row("dropped") is None


async def test_a_suppressed_mail_is_stored_without_body_but_never_counted_or_claimed(
    records: Records,
) -> None:
    await queue_mails(records, ("unknown-address", T0), deliver=False)

    assert await records.queue.depth() == 0
    assert await records.queue.has_due(T0 + timedelta(days=1)) is False
    assert await claim(records, T0 + timedelta(days=1)) == []
    assert await records.queue.give_up(created_before=T0 + timedelta(days=2), now=T0) == 0
    stored = await row(records, "unknown-address")
    assert (stored.status, stored.body, stored.attempts) == ("suppressed", "", 0)


async def test_claim_takes_due_mails_by_next_attempt_then_id_and_leases_them(records: Records) -> None:
    s = timedelta(seconds=1)
    await queue_mails(
        records,
        ("m1", T0 + 3 * s),
        ("m2", T0 + 1 * s),
        ("m3", T0 + 2 * s),
        ("m4", T0 + 1 * s),  # the same moment as m2, a later id
        ("m5", T0 + timedelta(minutes=10)),  # not due yet
    )
    now = T0 + timedelta(minutes=1)

    first = await records.queue.claim(now=now, lease_until=now + LEASE, limit=3)
    rest = await records.queue.claim(now=now, lease_until=now + 2 * LEASE, limit=10)
    before_lease_ends = await records.queue.claim(now=now + LEASE - US, lease_until=now + LEASE, limit=10)
    again = await records.queue.claim(now=now + LEASE, lease_until=now + 3 * LEASE, limit=10)

    assert subjects(first) == ["m2", "m4", "m3"]
    assert [m.attempts for m in first] == [1, 1, 1]
    assert subjects(rest) == ["m1"]
    assert before_lease_ends == []
    # Their leases end together, so the id decides; m1's lease (and m5's first attempt) are later.
    assert subjects(again) == ["m2", "m3", "m4"]
    assert [m.attempts for m in again] == [2, 2, 2]
    assert await records.queue.depth() == 5  # claimed is not sent
    m2 = first[0]
    assert m2.message == MailMessage(recipient="m2@example.com", subject="m2", body=BODY)
    assert m2.created_at == T0 + s
    assert_utc(m2.created_at)
    assert (await row(records, "m2")).attempts == 2


async def test_claim_takes_at_most_limit_mails(records: Records) -> None:
    await queue_mails(records, *((f"m{i}", T0) for i in range(5)))

    assert subjects(await claim(records, T0, limit=2)) == ["m0", "m1"]
    assert subjects(await claim(records, T0, limit=2)) == ["m2", "m3"]
    assert subjects(await claim(records, T0, limit=2)) == ["m4"]
    assert await claim(records, T0, limit=2) == []
    assert await records.queue.has_due(T0) is False
    assert await records.queue.has_due(T0 + LEASE) is True


async def test_a_sent_mail_leaves_the_queue_and_its_body_is_erased(records: Records) -> None:
    await queue_mails(records, ("sent", T0), ("kept", T0))
    sent, kept = await claim(records, T0)
    done_at = T0 + timedelta(seconds=2)

    await records.queue.mark_sent(sent.id, done_at)

    assert await records.queue.depth() == 1
    assert subjects(await claim(records, T0 + timedelta(days=1))) == ["kept"]
    sent_row, kept_row = await row(records, "sent"), await row(records, "kept")
    assert (sent_row.status, sent_row.body, sent_row.sent_at) == ("sent", "", done_at)
    assert_utc(sent_row.sent_at)
    assert (kept_row.status, kept_row.body, kept_row.sent_at) == ("pending", BODY, None)
    assert kept.message.body == BODY


async def test_a_mail_to_retry_is_due_again_only_at_its_retry_time(records: Records) -> None:
    await queue_mails(records, ("flaky", T0))
    [mail] = await claim(records, T0)  # leased until T0 + LEASE
    retry_at = T0 + 2 * LEASE

    await records.queue.retry_later(mail.id, retry_at=retry_at, error="421 try again " + "x" * 600)

    assert await records.queue.depth() == 1
    assert await records.queue.has_due(T0 + LEASE) is False  # the lease's end no longer counts
    assert await claim(records, retry_at - US) == []
    assert await records.queue.has_due(retry_at) is True
    [again] = await claim(records, retry_at)
    assert (again.id, again.attempts, again.message.body) == (mail.id, 2, BODY)
    stored = await row(records, "flaky")
    assert stored.last_error is not None
    assert stored.last_error.startswith("421 try again x")
    assert len(stored.last_error) == 500


async def test_give_up_drops_the_unsent_mails_created_before_the_cutoff(records: Records) -> None:
    cutoff = T0 + timedelta(hours=1)
    await queue_mails(records, ("old", T0), ("old-retried", T0 + timedelta(seconds=1)), ("old-sent", T0))
    await queue_mails(records, ("young", cutoff))  # created at the cutoff: not before it
    await queue_mails(records, ("old-suppressed", T0), deliver=False)
    claimed = {m.message.subject: m for m in await claim(records, T0 + timedelta(seconds=1))}
    await records.queue.retry_later(claimed["old-retried"].id, retry_at=cutoff, error="timeout")
    await records.queue.mark_sent(claimed["old-sent"].id, T0 + timedelta(seconds=2))
    day_later = T0 + timedelta(hours=25)

    dropped = await records.queue.give_up(created_before=cutoff, now=day_later)

    assert dropped == 2
    assert await records.queue.depth() == 1
    assert subjects(await claim(records, day_later)) == ["young"]
    assert await records.queue.give_up(created_before=cutoff, now=day_later) == 0
    for subject in ("old", "old-retried"):
        stored = await row(records, subject)
        assert (stored.status, stored.body) == ("dead", ""), subject
    assert (await row(records, "old-sent")).status == "sent"
    assert (await row(records, "old-suppressed")).status == "suppressed"
    assert (await row(records, "young")).body == BODY


@pytest.mark.parametrize("limit", [10, 5])
async def test_two_senders_claiming_at_once_never_take_the_same_mail(records: Records, limit: int) -> None:
    names = [f"m{i:02}" for i in range(10)]
    await queue_mails(records, *((name, T0) for name in names))
    now = T0 + timedelta(seconds=1)

    rounds = 3  # each after the last one's leases ran out
    async with records.other_sender() as other:
        for round_ in range(rounds):
            at = now + round_ * LEASE
            mine, theirs = await asyncio.gather(
                records.queue.claim(now=at, lease_until=at + LEASE, limit=limit),
                other.claim(now=at, lease_until=at + LEASE, limit=limit),
            )

            assert len(mine) <= limit
            assert len(theirs) <= limit
            assert sorted(subjects(mine) + subjects(theirs)) == names
            assert {m.attempts for m in (*mine, *theirs)} == {round_ + 1}
        at = now + rounds * LEASE - US
        assert await other.claim(now=at, lease_until=at + LEASE, limit=limit) == []


async def test_a_mail_marked_sent_while_a_unit_of_work_is_open_stays_sent_after_it_commits(
    records: Records,
) -> None:
    # The relay works beside request transactions: its own short transaction must not be undone
    # by a request that began before it and commits after it (the mail would be sent again).
    await queue_mails(records, ("first", T0))
    [first] = await claim(records, T0)

    async with records.new_uow() as uow:
        await uow.outbox.add(message("second"), now=T0)
        # On SQLite this waits for the writer; elsewhere it may finish before the commit.
        marking = asyncio.create_task(records.queue.mark_sent(first.id, T0 + US))
        await asyncio.sleep(0)  # let the relay's transaction start
        await uow.commit()
    await marking

    assert await records.queue.depth() == 1
    assert subjects(await claim(records, T0 + timedelta(days=1))) == ["second"]
    assert (await row(records, "first")).status == "sent"


async def test_a_lease_taken_while_a_unit_of_work_is_open_holds_after_it_commits(
    records: Records,
) -> None:
    await queue_mails(records, ("first", T0))

    async with records.new_uow() as uow:
        await uow.outbox.add(message("second"), now=T0 + timedelta(seconds=1))
        claiming = asyncio.create_task(claim(records, T0 + timedelta(seconds=1)))
        await asyncio.sleep(0)  # let the relay's transaction start
        await uow.commit()
    claimed = subjects(await claiming)

    # Whether the claim saw "second" depends on the engine's locking; "first" is leased either way.
    assert claimed[0] == "first"
    again = subjects(await claim(records, T0 + timedelta(seconds=2)))
    assert "first" not in again
    assert sorted(claimed + again) == ["first", "second"]
