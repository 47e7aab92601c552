"""The MFA use cases over the in-memory adapters, a fixed clock and real TOTP and AES-GCM."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher, InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.adapters.secret_box import AesGcmSecretBox
from gatehouse.adapters.totp import PyotpCodes
from gatehouse.application.errors import MfaRequiredError
from gatehouse.application.second_factor import SecondFactor
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.mfa import (
    ConfirmTotpEnrolment,
    DisableMfa,
    MfaSettings,
    RenewRecoveryCodes,
    ResetMfa,
    StartTotpEnrolment,
)
from gatehouse.application.use_cases.mfa_login import CompleteMfaLogin
from gatehouse.application.use_cases.sessions import TokenPair
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import Session, User
from tests.unit.application.conftest import MAX_FAILURES, PASSWORD, actor_of

DATA_KEY = "unit-test-data-key-of-at-least-32-bytes"


@dataclass
class Mfa:
    """Every MFA use case over one in-memory database, and the log-in in front of them."""

    database: InMemoryDatabase
    clock: FixedClock
    login: Login
    start: StartTotpEnrolment
    confirm: ConfirmTotpEnrolment
    renew: RenewRecoveryCodes
    disable: DisableMfa
    reset: ResetMfa
    complete: CompleteMfaLogin
    secrets: dict[int, str] = field(default_factory=dict)

    def code(self, user: User, *, steps: int = 0, at: datetime | None = None) -> str:
        """The user's TOTP code `steps` steps from now (or at `at`)."""
        moment = (at or self.clock.now()).timestamp() + 30 * steps
        return pyotp.TOTP(self.secrets[user.id]).at(int(moment))

    async def enrol(self, user: User) -> list[str]:
        """Turn MFA on for `user`; the recovery codes. Spends the current step's code."""
        actor = self.actor(user)
        pending = await self.start.execute(StartTotpEnrolment.Command(actor=actor, password=PASSWORD))
        self.secrets[user.id] = pending.secret
        codes = await self.confirm.execute(ConfirmTotpEnrolment.Command(actor=actor, code=self.code(user)))
        return list(codes.codes)

    async def password_step(self, user: User, identifier: str | None = None) -> str:
        """Log in with the password; the `mfa_token` of the 403."""
        with pytest.raises(MfaRequiredError) as required:
            await self.login.execute(
                Login.Command(identifier=identifier or user.email.value, password=PASSWORD)
            )
        return required.value.mfa_token

    async def code_step(self, token: str, code: str) -> TokenPair:
        return await self.complete.execute(CompleteMfaLogin.Command(mfa_token=token, code=code))

    def actor(self, user: User) -> Actor:
        """`user` signed in: an actor on a live session of its own (the own-MFA changes check it
        under the account's lock), written straight into the committed state."""
        state, now = self.database.state, self.clock.now()
        session = Session(
            id=state.new_id("sessions"),
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(days=14),
        )
        state.sessions[session.id] = session
        return actor_of(user, session_id=session.id)


@pytest.fixture
def mfa(
    database: InMemoryDatabase,
    clock: FixedClock,
    hasher: InMemoryPasswordHasher,
    tokens: InMemoryTokenIssuer,
    counters: InProcessCounters,
    secret_tokens: RandomSecretTokens,
) -> Mfa:
    uow = InMemoryUnitOfWork(database)
    queries = InMemoryUserQueries(database)
    factor = SecondFactor(PyotpCodes(), AesGcmSecretBox(DATA_KEY))
    settings = MfaSettings(uow, factor, hasher, clock, counters, MAX_FAILURES)
    return Mfa(
        database=database,
        clock=clock,
        login=Login(uow, queries, hasher, tokens, counters, clock, MAX_FAILURES, secret_tokens),
        start=StartTotpEnrolment(settings),
        confirm=ConfirmTotpEnrolment(settings),
        renew=RenewRecoveryCodes(settings),
        disable=DisableMfa(settings),
        reset=ResetMfa(uow, clock),
        complete=CompleteMfaLogin(uow, queries, factor, secret_tokens, tokens, counters, clock, MAX_FAILURES),
    )


def events(database: InMemoryDatabase, action: str) -> list[object]:
    return [e for e in database.state.audit_events.values() if e.action == action]


def subjects(database: InMemoryDatabase, recipient: str) -> list[str]:
    return [m.subject for m in database.state.mails.values() if m.recipient == recipient]
