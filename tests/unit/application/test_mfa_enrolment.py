"""Enrolling a TOTP app, recovery codes, turning MFA off, and an admin's reset."""

import base64
import re
from dataclasses import replace

import pytest

from gatehouse.application.errors import (
    AuthenticationError,
    ConflictError,
    InvalidCodeError,
    NotFoundError,
    RateLimitedError,
)
from gatehouse.application.use_cases.mfa import (
    ConfirmTotpEnrolment,
    DisableMfa,
    RenewRecoveryCodes,
    ResetMfa,
    StartTotpEnrolment,
)
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.values import Role
from tests.unit.application.conftest import PASSWORD, Accounts
from tests.unit.application.mfa_support import Mfa, events, mfa, subjects

__all__ = ["mfa"]
CODE_FORMAT = re.compile(r"^[a-z2-7]{5}-[a-z2-7]{5}$")


async def test_enrolment_shows_the_secret_once_and_stores_it_sealed(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    pending = await mfa.start.execute(StartTotpEnrolment.Command(actor=mfa.actor(me), password=PASSWORD))
    assert len(base64.b32decode(pending.secret)) == 20
    assert pending.otpauth_uri.startswith("otpauth://totp/Gatehouse:")
    assert f"secret={pending.secret}" in pending.otpauth_uri
    stored = mfa.database.state.mfa_enrolments[me.id]
    assert not stored.confirmed
    assert pending.secret.encode() not in stored.sealed_secret
    assert not mfa.database.state.users[me.id].mfa_enabled  # pending until a code confirms it


async def test_a_wrong_password_is_refused_and_counted(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    for _ in range(3):
        with pytest.raises(PermissionDeniedError):
            await mfa.start.execute(StartTotpEnrolment.Command(actor=mfa.actor(me), password="Wrong123x"))
    with pytest.raises(RateLimitedError):
        await mfa.start.execute(StartTotpEnrolment.Command(actor=mfa.actor(me), password=PASSWORD))
    assert me.id not in mfa.database.state.mfa_enrolments


async def test_confirming_turns_mfa_on_with_ten_recovery_codes_stored_as_digests(
    accounts: Accounts, mfa: Mfa
) -> None:
    me = await accounts.user()
    codes = await mfa.enrol(me)
    assert len(set(codes)) == 10
    assert all(CODE_FORMAT.match(c) for c in codes)
    assert mfa.database.state.users[me.id].mfa_enabled
    stored = mfa.database.state.recovery_codes[me.id]
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & set(stored)
    assert len(events(mfa.database, "auth.mfa_enabled")) == 1
    notices = [m for m in mfa.database.state.mails.values() if m.recipient == me.email.value]
    on = [m for m in notices if m.subject == "Security notice: two-factor authentication turned on"]
    assert len(on) == 1
    assert "http" not in on[0].body
    assert not any(c in on[0].body for c in codes)
    assert mfa.secrets[me.id] not in on[0].body


async def test_a_wrong_or_missing_confirmation_changes_nothing(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    actor = mfa.actor(me)
    with pytest.raises(InvalidCodeError):  # nothing pending
        await mfa.confirm.execute(ConfirmTotpEnrolment.Command(actor=actor, code="123456"))
    first = await mfa.start.execute(StartTotpEnrolment.Command(actor=actor, password=PASSWORD))
    second = await mfa.start.execute(StartTotpEnrolment.Command(actor=actor, password=PASSWORD))
    mfa.secrets[me.id] = first.secret
    with pytest.raises(InvalidCodeError):  # the first secret was replaced
        await mfa.confirm.execute(ConfirmTotpEnrolment.Command(actor=actor, code=mfa.code(me)))
    assert not mfa.database.state.users[me.id].mfa_enabled
    mfa.secrets[me.id] = second.secret
    await mfa.confirm.execute(ConfirmTotpEnrolment.Command(actor=actor, code=mfa.code(me)))
    with pytest.raises(ConflictError):
        await mfa.start.execute(StartTotpEnrolment.Command(actor=actor, password=PASSWORD))
    with pytest.raises(ConflictError):
        await mfa.confirm.execute(ConfirmTotpEnrolment.Command(actor=actor, code=mfa.code(me, steps=1)))


async def test_renewed_recovery_codes_replace_the_old_ones(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    old = await mfa.enrol(me)
    with pytest.raises(PermissionDeniedError):
        await mfa.renew.execute(RenewRecoveryCodes.Command(actor=mfa.actor(me), code=old[0]))  # TOTP only
    new = await mfa.renew.execute(RenewRecoveryCodes.Command(actor=mfa.actor(me), code=mfa.code(me, steps=1)))
    assert not set(new.codes) & set(old)
    with pytest.raises(AuthenticationError):
        await mfa.code_step(await mfa.password_step(me), old[1])
    await mfa.code_step(await mfa.password_step(me), new.codes[1])
    assert len(events(mfa.database, "auth.recovery_codes_renewed")) == 1


async def test_turning_off_needs_the_password_and_a_code(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    codes = await mfa.enrol(me)
    actor = mfa.actor(me)
    with pytest.raises(PermissionDeniedError):
        await mfa.disable.execute(DisableMfa.Command(actor=actor, password="Wrong123x", code=codes[0]))
    with pytest.raises(PermissionDeniedError):
        await mfa.disable.execute(DisableMfa.Command(actor=actor, password=PASSWORD, code="000000"))
    assert mfa.database.state.users[me.id].mfa_enabled
    await mfa.disable.execute(DisableMfa.Command(actor=actor, password=PASSWORD, code=codes[0]))
    assert not mfa.database.state.users[me.id].mfa_enabled
    assert me.id not in mfa.database.state.mfa_enrolments
    assert me.id not in mfa.database.state.recovery_codes
    pair, _ = await accounts.sign_in(me)  # one step again
    assert pair.access_token
    assert "Security notice: two-factor authentication turned off" in subjects(mfa.database, me.email.value)


async def test_only_an_admin_resets_mfa(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    for role in (Role.USER, Role.MODERATOR):
        other = await accounts.create(role)
        with pytest.raises(PermissionDeniedError):
            await mfa.reset.execute(ResetMfa.Command(actor=mfa.actor(other), user_id=me.id))
    admin = await accounts.admin()
    with pytest.raises(NotFoundError):
        await mfa.reset.execute(ResetMfa.Command(actor=mfa.actor(admin), user_id=99_999))
    after = await mfa.reset.execute(ResetMfa.Command(actor=mfa.actor(admin), user_id=me.id))
    assert not after.mfa_enabled
    reset = events(mfa.database, "auth.mfa_disabled")
    assert [(e.actor_id, e.details) for e in reset] == [(admin.id, {"reset": True})]  # type: ignore[attr-defined]
    again = await mfa.reset.execute(ResetMfa.Command(actor=mfa.actor(admin), user_id=me.id))
    assert not again.mfa_enabled
    assert len(events(mfa.database, "auth.mfa_disabled")) == 1  # nothing was on the second time


async def test_an_admin_can_not_reset_their_own_mfa_without_their_factors(
    accounts: Accounts, mfa: Mfa
) -> None:
    admin = await accounts.admin()
    await mfa.enrol(admin)
    with pytest.raises(PermissionDeniedError, match="DELETE /users/me/mfa"):
        await mfa.reset.execute(ResetMfa.Command(actor=mfa.actor(admin), user_id=admin.id))
    assert mfa.database.state.users[admin.id].mfa_enabled


def _end_session(mfa: Mfa, session_id: int) -> None:
    """What a password change, a reset or a sign-out everywhere that commits meanwhile leaves."""
    state = mfa.database.state
    state.sessions[session_id] = replace(state.sessions[session_id], revoked_at=mfa.clock.now())


async def test_turning_off_on_a_session_that_ended_meanwhile_is_refused_and_spends_nothing(
    accounts: Accounts, mfa: Mfa
) -> None:
    """The request was authenticated, then a change ended its session before it took the lock: the
    right password and code change nothing, and the recovery code stays unused."""
    me = await accounts.user()
    codes = await mfa.enrol(me)
    actor = mfa.actor(me)
    _end_session(mfa, actor.session_id)
    with pytest.raises(AuthenticationError):
        await mfa.disable.execute(DisableMfa.Command(actor=actor, password=PASSWORD, code=codes[0]))
    assert mfa.database.state.users[me.id].mfa_enabled
    assert all(used is None for used in mfa.database.state.recovery_codes[me.id].values())
    await mfa.disable.execute(DisableMfa.Command(actor=mfa.actor(me), password=PASSWORD, code=codes[0]))
    assert not mfa.database.state.users[me.id].mfa_enabled


async def test_enrolling_on_a_session_that_ended_meanwhile_is_refused_and_stores_nothing(
    accounts: Accounts, mfa: Mfa
) -> None:
    me = await accounts.user()
    actor = mfa.actor(me)
    _end_session(mfa, actor.session_id)
    with pytest.raises(AuthenticationError):
        await mfa.start.execute(StartTotpEnrolment.Command(actor=actor, password=PASSWORD))
    assert me.id not in mfa.database.state.mfa_enrolments
