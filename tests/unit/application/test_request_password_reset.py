"""RequestPasswordReset: the same work for every address, a mail only for an active account, the limit."""

from datetime import timedelta
from functools import partial
from typing import Any, Self

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.application.account_mail import RESET_TTL
from gatehouse.application.errors import InvalidTokenError, RateLimitedError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.counters import WindowCount
from gatehouse.application.ports.credentials import TokenPurpose
from gatehouse.application.use_cases.password_reset import RequestPasswordReset
from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.values import Role
from tests.unit.application.conftest import PUBLIC_URL, Accounts
from tests.unit.application.conftest_account_cases import RESET_PAGE, AccountCases, account_cases

ALLOWED = 3
PORTS = (
    "users",
    "sessions",
    "orders",
    "idempotency",
    "audit",
    "outbox",
    "account_tokens",
    "mfa",
    "api_tokens",
)


class Recording:
    """Forwards every call to `target`, logging `<name>.<method>`: the shape of the work, not its data."""

    def __init__(self, name: str, target: object, log: list[str]) -> None:
        self._name, self._target, self._log = name, target, log

    def __getattr__(self, attr: str) -> Any:
        method = getattr(self._target, attr)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._log.append(f"{self._name}.{attr}")
            return method(*args, **kwargs)

        return call if callable(method) else method


class RecordingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, database: InMemoryDatabase, log: list[str]) -> None:
        super().__init__(database)
        self.log = log

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.log.append("begin")
        for port in PORTS:
            setattr(self, port, Recording(port, getattr(self, port), self.log))
        return self

    async def commit(self) -> None:
        self.log.append("commit")
        await super().commit()


class RecordingCounters(InProcessCounters):
    def __init__(self, clock: FixedClock, log: list[str]) -> None:
        super().__init__(clock)
        self.log = log

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        self.log.append("counters.increment")
        return await super().increment(key, window_seconds)


class RecordingSecretTokens(RandomSecretTokens):
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def new(self) -> tuple[str, str]:
        self.log.append("tokens.new")
        return super().new()


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


def recording_cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, log: list[str]
) -> AccountCases:
    factory = partial(RecordingUnitOfWork, log=log)
    watched = account_cases(database, clock, hasher, RecordingCounters(clock, log), factory)
    watched.mailer.tokens = RecordingSecretTokens(log)
    return watched


@pytest.mark.parametrize("other", ["nobody@example.com", "gone@example.com"])
async def test_a_reset_request_makes_the_same_port_calls_for_an_active_account_and_any_other_address(
    accounts: Accounts,
    database: InMemoryDatabase,
    clock: FixedClock,
    hasher: InMemoryPasswordHasher,
    other: str,
) -> None:
    await accounts.user(name="ada")
    await accounts.create(Role.USER, name="gone", is_active=False)
    log: list[str] = []
    watched = recording_cases(database, clock, hasher, log)
    hasher.calls.clear()
    commits = database.commits
    await watched.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    known, known_commits = list(log), database.commits - commits
    log.clear()
    await watched.request_reset.execute(RequestPasswordReset.Command(email=other))
    assert log == known
    assert database.commits - commits - known_commits == known_commits == 1
    assert hasher.calls == []
    assert known == [
        "counters.increment",
        "begin",
        "users.get_by_email",
        "tokens.new",
        "account_tokens.issue",
        "outbox.add",
        "audit.record",
        "commit",
    ]


async def test_an_active_account_gets_a_pending_mail_with_a_reset_link(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user(name="ada")
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ADA@example.com"))
    mail = cases.mails("ada@example.com")[-1]
    assert (mail.status, mail.subject) == ("pending", "Reset your password")
    assert f"{PUBLIC_URL}/account/reset-password?token=" in mail.body
    token = cases.last_token("ada@example.com", RESET_PAGE)
    stored = cases.stored_token(token)
    assert stored is not None
    assert (stored.user_id, stored.expires_at) == (me.id, clock.now() + RESET_TTL)
    assert cases.usable(token, TokenPurpose.RESET_PASSWORD)


async def test_an_unknown_email_gets_a_suppressed_mail_and_no_usable_token(cases: AccountCases) -> None:
    await cases.request_reset.execute(RequestPasswordReset.Command(email="Nobody@Example.com"))
    [mail] = cases.mails()
    assert (mail.recipient, mail.status, mail.body) == ("nobody@example.com", "suppressed", "")
    [token] = cases.database.state.account_tokens.values()
    assert token.user_id is None
    assert not token.is_usable(cases.clock.now())


async def test_a_deactivated_account_gets_a_suppressed_mail_and_no_usable_token(
    accounts: Accounts, cases: AccountCases
) -> None:
    gone = await accounts.create(Role.USER, name="gone", is_active=False)
    await cases.request_reset.execute(RequestPasswordReset.Command(email="gone@example.com"))
    [mail] = cases.mails("gone@example.com")
    assert (mail.status, mail.body) == ("suppressed", "")
    now = cases.clock.now()
    tokens = cases.database.state.account_tokens.values()
    assert not any(t.is_usable(now) for t in tokens)
    assert not any(t.user_id == gone.id for t in tokens)


async def test_a_newer_reset_request_kills_the_older_link(accounts: Accounts, cases: AccountCases) -> None:
    await accounts.user(name="ada")
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    first = cases.last_token("ada@example.com", RESET_PAGE)
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    assert not cases.usable(first, TokenPurpose.RESET_PASSWORD)
    with pytest.raises(InvalidTokenError):
        await cases.confirm(first)
    assert cases.usable(cases.last_token("ada@example.com", RESET_PAGE), TokenPurpose.RESET_PASSWORD)


@pytest.mark.parametrize("address", ["ada@example.com", "nobody@example.com"])
async def test_the_fourth_reset_request_within_an_hour_is_rate_limited(
    accounts: Accounts, cases: AccountCases, address: str
) -> None:
    await accounts.user(name="ada")
    for spelling in (address, address.upper(), address.title()):  # one lower-cased key
        await cases.request_reset.execute(RequestPasswordReset.Command(email=spelling))
    mails, events = len(cases.mails()), len(cases.events())
    with pytest.raises(RateLimitedError):
        await cases.request_reset.execute(RequestPasswordReset.Command(email=address))
    assert (len(cases.mails()), len(cases.events())) == (mails, events)


async def test_reset_requests_are_allowed_again_after_the_hour(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    await accounts.user(name="ada")
    for _ in range(ALLOWED):
        await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    clock.advance(timedelta(hours=1).total_seconds())
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    assert len(cases.mails("ada@example.com")) == 1 + ALLOWED + 1  # with the sign-up mail


async def test_a_request_for_an_unknown_email_is_recorded_without_a_user_but_with_the_address(
    cases: AccountCases,
) -> None:
    await cases.request_reset.execute(RequestPasswordReset.Command(email="Nobody@Example.com"))
    [event] = cases.events(AuditAction.PASSWORD_RESET_REQUESTED)
    assert (event.user_id, event.actor_id) == (None, None)
    assert event.details["email"] == "nobody@example.com"


async def test_a_request_for_an_account_is_recorded_with_its_id_and_never_the_token(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user(name="ada")
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    token = cases.last_token("ada@example.com", RESET_PAGE)
    [event] = cases.events(AuditAction.PASSWORD_RESET_REQUESTED)
    assert event.user_id == me.id
    assert event.details["email"] == "ada@example.com"
    text = repr(dict(event.details))
    assert token not in text
    assert cases.secret_tokens.fingerprint(token) not in text


@pytest.mark.parametrize("address", ["not-an-email", "", "ada@example"])
async def test_a_reset_request_for_an_invalid_address_is_refused(cases: AccountCases, address: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await cases.request_reset.execute(RequestPasswordReset.Command(email=address))
    assert caught.value.field == "email"
    assert (cases.mails(), cases.events()) == ([], [])
