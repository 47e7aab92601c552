"""Multi-factor authentication for one's own account: enrol a TOTP app, renew recovery codes,
turn it off; and an admin's (or the console operator's) reset for a user who lost every factor."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.audit_log import record
from gatehouse.application.credential_checks import (
    LOGIN_WINDOW_SECONDS,
    confirm_password,
    login_throttle_key,
    session_still_live,
    still_there,
)
from gatehouse.application.errors import ConflictError, InvalidCodeError, NotFoundError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.application.ports.mfa import MfaEnrolment
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.second_factor import SecondFactor, secret_context
from gatehouse.application.security_notices import Notice, send_notice
from gatehouse.application.use_cases import OverUnitOfWork
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor, check_can_reset_mfa
from gatehouse.domain.user import User

ISSUER = "Gatehouse"
WRONG_PASSWORD_OR_CODE = "Password or code is wrong"  # noqa: S105 - a message, not a password
T = TypeVar("T")
Change = Callable[[UnitOfWork, User, datetime], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class PendingTotp:
    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RecoveryCodes:
    codes: Sequence[str] = field(repr=False)


class MfaSettings:
    """What every MFA use case needs: the unit of work, the checks of both factors, the clock."""

    def __init__(
        self,
        uow: UnitOfWork,
        factor: SecondFactor,
        hasher: PasswordHasher,
        clock: Clock,
        counters: Counters,
        max_failures: int,
    ) -> None:
        self.uow = uow
        self.factor = factor
        self.hasher = hasher
        self.clock = clock
        self.attempts = GuardedAttempts(counters, max_failures, LOGIN_WINDOW_SECONDS)

    async def account_of(self, actor: Actor) -> User:
        """The signed-in account, read without a lock (for the slow checks before the change)."""
        async with self.uow as uow:
            return still_there(await uow.users.get(actor.user_id))

    async def with_code(
        self, actor: Actor, user: User, code: str, *, recovery: bool, wrong: str, change: Change[T]
    ) -> T:
        """`change`, in one unit of work committed with it, when MFA is on (409 when off) and `code`
        is right: a current TOTP code, or with `recovery` an unused recovery code (spent). A wrong
        code is 403 `wrong`, counted toward the log-in throttle of `user`'s email (as read before)."""
        async with self.attempts.attempt(login_throttle_key(user.email.value)) as outcome:
            now = self.clock.now()
            async with self.uow as uow:
                user = await _own_account(uow, actor, now)
                enrolment = await _confirmed_enrolment(uow, user.id)
                if await self.factor.accept(uow, enrolment, code, now, recovery=recovery) is None:
                    outcome.failed = True
                else:
                    done = await change(uow, user, now)
                    await uow.commit()
        if outcome.failed:
            raise PermissionDeniedError(wrong)
        return done


@dataclass(frozen=True, kw_only=True)
class CodeCommand:
    """The caller and a code from their TOTP app (ConfirmTotpEnrolment, RenewRecoveryCodes)."""

    actor: Actor
    code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class OwnMfaUseCase:
    """A use case on one's own MFA: what it needs is the `MfaSettings`."""

    mfa: MfaSettings


async def _own_account(uow: UnitOfWork, actor: Actor, now: datetime, *, mfa_on: bool | None = None) -> User:
    """The signed-in account, locked, while the caller's session is live (a password change or reset
    that committed while this request checked its password or code ended it: 401, nothing changes);
    with `mfa_on=False`, 409 when MFA is already on."""
    user = still_there(await uow.users.lock(actor.user_id, exclusive=True))
    await session_still_live(uow, actor, now)
    if mfa_on is False and user.mfa_enabled:
        raise ConflictError("Two-factor authentication is already on")
    return user


async def _confirmed_enrolment(uow: UnitOfWork, user_id: int) -> MfaEnrolment:
    enrolment = await uow.mfa.get(user_id)
    if enrolment is None or not enrolment.confirmed:
        raise ConflictError("Two-factor authentication is off")
    return enrolment


class StartTotpEnrolment(OwnMfaUseCase):
    """Start enrolling a TOTP app.

    - The password is asked again (403 when wrong; it counts toward the log-in throttle).
    - MFA already on: 409. A new pending secret replaces an earlier pending one.
    - The secret is stored sealed (AES-GCM under the data key); it is shown this once.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        password: str = field(repr=False)

    async def execute(self, command: Command) -> PendingTotp:
        command.actor.require_session("manage two-factor authentication")
        mfa = self.mfa
        user = await mfa.account_of(command.actor)
        await confirm_password(mfa.attempts, mfa.hasher, user, command.password, "Password is wrong")
        codes = mfa.factor.codes
        secret = codes.new_secret()
        async with mfa.uow as uow:
            now = mfa.clock.now()
            user = await _own_account(uow, command.actor, now, mfa_on=False)
            sealed = mfa.factor.box.seal(secret, context=secret_context(user.id))
            await uow.mfa.start(user.id, sealed, now)
            await uow.commit()
        uri = codes.provisioning_uri(secret, account=user.email.value, issuer=ISSUER)
        return PendingTotp(secret=secret, otpauth_uri=uri)


class ConfirmTotpEnrolment(OwnMfaUseCase):
    """Confirm the pending secret with a code from the app: MFA is on, and 10 recovery codes are
    shown this once (stored only as keyed digests).

    - No pending enrolment, or a wrong code: 400. MFA already on: 409.
    - The confirming code's step is spent: it can't be used again to log in.
    - Sessions stay as they are; `auth.mfa_enabled` and a security notice are written with it.
    """

    Command = CodeCommand

    async def execute(self, command: CodeCommand) -> RecoveryCodes:
        command.actor.require_session("manage two-factor authentication")
        mfa = self.mfa
        now = mfa.clock.now()
        async with mfa.uow as uow:
            user = await _own_account(uow, command.actor, now, mfa_on=False)
            enrolment = await uow.mfa.get(user.id)
            if enrolment is None or enrolment.confirmed:
                raise InvalidCodeError("No enrolment is pending: start one with POST /users/me/mfa/totp")
            step = mfa.factor.step_of(enrolment, command.code, now)
            if step is None or not await uow.mfa.confirm(user.id, step, now):
                raise InvalidCodeError("The code is wrong")
            codes = await mfa.factor.renew_recovery_codes(uow, user.id, now)
            await uow.users.update(
                user.changed(now, mfa_enabled=True), fields=["mfa_enabled"], expected_versions=None
            )
            await record(uow, AuditAction.MFA_ENABLED, at=now, user_id=user.id, actor=command.actor)
            await send_notice(uow, Notice.MFA_ENABLED, user, at=now)
            await uow.commit()
        return RecoveryCodes(codes=codes)


class RenewRecoveryCodes(OwnMfaUseCase):
    """Ten new recovery codes; the old ones die. A current TOTP code is required (403 when wrong,
    counted toward the log-in throttle of the account's email)."""

    Command = CodeCommand

    async def execute(self, command: CodeCommand) -> RecoveryCodes:
        command.actor.require_session("manage two-factor authentication")

        async def renew(uow: UnitOfWork, user: User, now: datetime) -> Sequence[str]:
            codes = await self.mfa.factor.renew_recovery_codes(uow, user.id, now)
            await record(
                uow, AuditAction.RECOVERY_CODES_RENEWED, at=now, user_id=user.id, actor=command.actor
            )
            return codes

        user = await self.mfa.account_of(command.actor)
        codes = await self.mfa.with_code(
            command.actor, user, command.code, recovery=False, wrong="The code is wrong", change=renew
        )
        return RecoveryCodes(codes=codes)


class DisableMfa(OwnMfaUseCase):
    """Turn MFA off with the password and a code (a TOTP code or an unused recovery code); 403 when
    either is wrong (both count toward the log-in throttle). The recovery codes go with it;
    sessions stay; `auth.mfa_disabled` and a security notice are written with it."""

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        password: str = field(repr=False)
        code: str = field(repr=False)

    async def execute(self, command: Command) -> None:
        command.actor.require_session("manage two-factor authentication")
        mfa = self.mfa
        user = await mfa.account_of(command.actor)
        await confirm_password(mfa.attempts, mfa.hasher, user, command.password, WRONG_PASSWORD_OR_CODE)

        async def turn_off(uow: UnitOfWork, user: User, now: datetime) -> User:
            return await _turn_off(uow, user, command.actor, now)

        await mfa.with_code(
            command.actor, user, command.code, recovery=True, wrong=WRONG_PASSWORD_OR_CODE, change=turn_off
        )


class ResetMfa(OverUnitOfWork):
    """An admin (or the console operator) turns a user's MFA off: the way back for someone who lost
    every factor. Not an admin's own (403: that takes their password and a code). 404 for an
    unknown account; 204 whether or not MFA was on (audited and notified only when it was)."""

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int

    async def execute(self, command: Command) -> User:
        command.actor.require_session("manage two-factor authentication")
        check_can_reset_mfa(command.actor, command.user_id)
        now = self.clock.now()
        async with self.uow as uow:
            user = await uow.users.lock(command.user_id, exclusive=True)
            if user is None:
                raise NotFoundError(f"User with id {command.user_id} not found")
            after = await _turn_off(uow, user, command.actor, now, reset=True)
            await uow.commit()
        return after


async def _turn_off(uow: UnitOfWork, user: User, actor: Actor, now: datetime, *, reset: bool = False) -> User:
    """MFA off: the enrolment (confirmed or pending), its recovery codes and any log-in waiting for
    a code go; when it was on, the change is audited and the account told. The account after."""
    await uow.mfa.remove(user.id)
    await uow.mfa.end_challenges(user.id)
    if not user.mfa_enabled:
        return user
    off = await uow.users.update(
        user.changed(now, mfa_enabled=False), fields=["mfa_enabled"], expected_versions=None
    )
    details = {"reset": True} if reset else None
    await record(uow, AuditAction.MFA_DISABLED, at=now, user_id=user.id, actor=actor, details=details)
    await send_notice(uow, Notice.MFA_DISABLED, user, at=now)
    return off
