"""§13: API tokens cannot manage credentials. The HTTP routes refuse them first; the use cases
refuse them too, so a driver that forgot would still be safe — and nothing changes."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gatehouse.adapters.memory.queries import InMemorySessionQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.mfa import CodeCommand, DisableMfa, ResetMfa, StartTotpEnrolment
from gatehouse.application.use_cases.my_sessions import ListMySessions, RevokeAllSessions, RevokeMySession
from gatehouse.application.use_cases.sessions import Logout
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from tests.unit.application.api_token_support import as_token
from tests.unit.application.conftest import PASSWORD, Accounts
from tests.unit.application.mfa_support import Mfa, mfa

__all__ = ["mfa"]
NEW_PASSWORD = "Another-Secret-7"
Call = Callable[[Actor, User], Awaitable[Any]]


def calls(
    mfa: Mfa, change_password: ChangePassword, logout: Logout, database: InMemoryDatabase
) -> dict[str, Call]:
    sessions = InMemorySessionQueries(database)
    uow = InMemoryUnitOfWork(database)
    uow_sessions = (RevokeMySession(uow, mfa.clock), RevokeAllSessions(uow, mfa.clock))
    return {
        "change password": lambda a, u: change_password.execute(
            ChangePassword.Command(actor=a, current_password=PASSWORD, new_password=NEW_PASSWORD)
        ),
        "start TOTP": lambda a, u: mfa.start.execute(StartTotpEnrolment.Command(actor=a, password=PASSWORD)),
        "confirm TOTP": lambda a, u: mfa.confirm.execute(CodeCommand(actor=a, code="123456")),
        "renew codes": lambda a, u: mfa.renew.execute(CodeCommand(actor=a, code="123456")),
        "disable MFA": lambda a, u: mfa.disable.execute(
            DisableMfa.Command(actor=a, password=PASSWORD, code="123456")
        ),
        "reset MFA": lambda a, u: mfa.reset.execute(ResetMfa.Command(actor=a, user_id=u.id + 1)),
        "list sessions": lambda a, u: ListMySessions(sessions, mfa.clock).execute(
            ListMySessions.Query(actor=a)
        ),
        "end a session": lambda a, u: uow_sessions[0].execute(RevokeMySession.Command(actor=a, session_id=1)),
        "sign out everywhere": lambda a, u: uow_sessions[1].execute(
            RevokeAllSessions.Command(actor=a, user_id=u.id)
        ),
        "log out": lambda a, u: logout.execute(Logout.Command(actor=a)),
    }


NAMES = [
    "change password",
    "start TOTP",
    "confirm TOTP",
    "renew codes",
    "disable MFA",
    "reset MFA",
    "list sessions",
    "end a session",
    "sign out everywhere",
    "log out",
]


@pytest.mark.parametrize("name", NAMES)
async def test_an_api_token_with_every_scope_is_refused_and_nothing_changes(
    name: str,
    accounts: Accounts,
    mfa: Mfa,
    change_password: ChangePassword,
    logout: Logout,
    database: InMemoryDatabase,
) -> None:
    admin = await accounts.admin()
    await accounts.sign_in(admin)
    before = (database.commits, len(database.state.audit_events), dict(database.state.sessions))

    with pytest.raises(PermissionDeniedError, match=r"API tokens can't .*use a session"):
        await calls(mfa, change_password, logout, database)[name](as_token(admin), admin)

    assert (database.commits, len(database.state.audit_events), dict(database.state.sessions)) == before


async def test_the_same_calls_by_a_session_go_through(
    accounts: Accounts, mfa: Mfa, change_password: ChangePassword, logout: Logout, database: InMemoryDatabase
) -> None:
    """The contrast that makes the refusals above meaningful: a session's actor is not refused."""
    admin = await accounts.admin()
    _, actor = await accounts.sign_in(admin)
    table = calls(mfa, change_password, logout, database)
    await table["list sessions"](actor, admin)
    pending = await table["start TOTP"](actor, admin)
    assert pending.secret
    await table["change password"](actor, admin)
