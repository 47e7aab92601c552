"""DeliverPendingMail over the in-memory outbox: sending, retrying, giving up, suppressed mail, leases."""

from datetime import timedelta

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.mail_outbox import InMemoryMailQueue
from gatehouse.adapters.memory.state import StoredMail
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.errors import MailDeliveryError
from gatehouse.application.ports.mail import MailTransport, PendingMail
from gatehouse.application.use_cases.deliver_mail import (
    GIVE_UP_AFTER,
    LEASE,
    DeliverPendingMail,
    DeliveryReport,
    retry_delay,
)
from gatehouse.application.use_cases.password_reset import RequestPasswordReset
from tests.unit.application.conftest import PUBLIC_URL, Accounts
from tests.unit.application.conftest_account_cases import AccountCases, account_cases

A_MINUTE = timedelta(seconds=60)


class FakeTransport(MailTransport):
    """Records what it was handed; the first `fail_first` attempts fail as an unreachable server would."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts = 0
        self.sent: list[PendingMail] = []

    async def send(self, mail: PendingMail) -> None:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            raise MailDeliveryError("connection refused")
        self.sent.append(mail)


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


@pytest.fixture
def queue(database: InMemoryDatabase) -> InMemoryMailQueue:
    return InMemoryMailQueue(database)


def relay(
    queue: InMemoryMailQueue, clock: FixedClock, transport: FakeTransport, batch: int = 20
) -> DeliverPendingMail:
    return DeliverPendingMail(queue, transport, clock, batch)


def only_mail(cases: AccountCases) -> StoredMail:
    [mail] = cases.mails()
    return mail


async def test_due_mails_are_sent_once_and_their_bodies_erased(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await accounts.user(name="ada")
    await accounts.user(name="bob")
    transport = FakeTransport()
    assert await relay(queue, clock, transport).execute() == DeliveryReport(sent=2)
    assert [m.message.recipient for m in transport.sent] == ["ada@example.com", "bob@example.com"]
    assert all(f"{PUBLIC_URL}/account/verify-email?token=" in m.message.body for m in transport.sent)
    assert [(m.status, m.body, m.sent_at) for m in cases.mails()] == [("sent", "", clock.now())] * 2
    assert await queue.depth() == 0
    assert await relay(queue, clock, transport).execute() == DeliveryReport()
    assert transport.attempts == 2


async def test_a_failed_attempt_is_retried_after_the_delay_and_not_before(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await accounts.user()
    transport = FakeTransport(fail_first=1)
    assert await relay(queue, clock, transport).execute() == DeliveryReport(failed=1)
    mail = only_mail(cases)
    assert (mail.status, mail.attempts, mail.last_error) == ("pending", 1, "connection refused")
    assert mail.next_attempt_at == clock.now() + retry_delay(1)
    assert mail.body  # still there to be sent
    assert not await queue.has_due(clock.now())
    assert await relay(queue, clock, transport).execute() == DeliveryReport()
    clock.advance(retry_delay(1).total_seconds() - 1)
    assert await relay(queue, clock, transport).execute() == DeliveryReport()
    clock.advance(1)
    assert await relay(queue, clock, transport).execute() == DeliveryReport(sent=1)
    assert (only_mail(cases).status, only_mail(cases).body, transport.attempts) == ("sent", "", 2)


def test_the_retry_delay_grows_then_stays_at_a_minute() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert all(timedelta(0) < retry_delay(n) <= A_MINUTE for n in range(200))


async def test_an_unreachable_server_is_retried_at_least_once_a_minute_for_a_day_then_the_mail_dropped(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await accounts.user()
    transport = FakeTransport(fail_first=10**9)
    queued = clock.now()
    while clock.now() - queued <= GIVE_UP_AFTER:
        assert await relay(queue, clock, transport).execute() == DeliveryReport(failed=1)
        gap = only_mail(cases).next_attempt_at - clock.now()
        assert timedelta(0) < gap <= A_MINUTE
        clock.current += gap
    attempts = transport.attempts
    assert attempts >= 24 * 60
    assert await relay(queue, clock, transport).execute() == DeliveryReport(dropped=1)
    assert (only_mail(cases).status, only_mail(cases).body) == ("dead", "")
    clock.advance(3600)
    assert await relay(queue, clock, transport).execute() == DeliveryReport()
    assert transport.attempts == attempts


async def test_a_mail_is_still_tried_at_exactly_24_hours_and_dropped_just_after(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await accounts.user()
    transport = FakeTransport(fail_first=10**9)
    clock.advance(GIVE_UP_AFTER.total_seconds())
    assert await relay(queue, clock, transport).execute() == DeliveryReport(failed=1)
    clock.advance(A_MINUTE.total_seconds())
    assert await relay(queue, clock, transport).execute() == DeliveryReport(dropped=1)
    assert (only_mail(cases).status, only_mail(cases).body, transport.attempts) == ("dead", "", 1)


async def test_a_suppressed_mail_is_never_sent(
    cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await cases.request_reset.execute(RequestPasswordReset.Command(email="nobody@example.com"))
    transport = FakeTransport()
    assert not await queue.has_due(clock.now())
    assert await queue.depth() == 0
    for _ in range(2):
        assert await relay(queue, clock, transport).execute() == DeliveryReport()
        clock.advance(GIVE_UP_AFTER.total_seconds() + 1)
    assert (transport.attempts, only_mail(cases).status) == (0, "suppressed")


async def test_a_claimed_mail_is_not_claimed_again_during_its_lease(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await accounts.user()
    now = clock.now()
    [claimed] = await queue.claim(now=now, lease_until=now + LEASE, limit=10)
    assert claimed.attempts == 1
    clock.advance(LEASE.total_seconds() - 1)
    assert await queue.claim(now=clock.now(), lease_until=clock.now() + LEASE, limit=10) == []
    transport = FakeTransport()
    assert await relay(queue, clock, transport).execute() == DeliveryReport()
    assert transport.attempts == 0
    clock.advance(1)  # the sender holding it died: the lease has run out
    assert await relay(queue, clock, transport).execute() == DeliveryReport(sent=1)
    assert transport.sent[0].attempts == 2


async def test_one_run_sends_at_most_its_batch(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    for name in ("ada", "bob", "cyd"):
        await accounts.user(name=name)
    transport = FakeTransport()
    assert await relay(queue, clock, transport, batch=2).execute() == DeliveryReport(sent=2)
    assert await queue.depth() == 1
    assert await relay(queue, clock, transport, batch=2).execute() == DeliveryReport(sent=1)
    assert sorted(m.message.recipient for m in transport.sent) == [
        "ada@example.com",
        "bob@example.com",
        "cyd@example.com",
    ]


async def test_one_failing_mail_does_not_hold_back_the_others(
    accounts: Accounts, cases: AccountCases, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    await accounts.user(name="ada")
    await accounts.user(name="bob")
    transport = FakeTransport(fail_first=1)
    assert await relay(queue, clock, transport).execute() == DeliveryReport(sent=1, failed=1)
    assert [m.status for m in cases.mails()] == ["pending", "sent"]


async def test_the_report_says_why_attempts_failed_each_reason_once(
    accounts: Accounts, queue: InMemoryMailQueue, clock: FixedClock
) -> None:
    for name in ("ada", "bob", "cyd"):
        await accounts.user(name=name)
    transport = FakeTransport(fail_first=2)

    report = await relay(queue, clock, transport).execute()

    assert (report.sent, report.failed) == (1, 2)
    assert report.errors == ("connection refused",)
    assert await relay(queue, clock, transport).execute() == DeliveryReport()  # nothing due: no reason
