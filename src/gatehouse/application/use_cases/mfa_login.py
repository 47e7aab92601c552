"""The second step of a log-in with MFA on: the `mfa_token` of the first step, and a code."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.audit_log import record
from gatehouse.application.credential_checks import LOGIN_WINDOW_SECONDS, identifier_of, login_throttle_key
from gatehouse.application.errors import AuthenticationError, MfaRequiredError, RateLimitedError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import SecretTokens, TokenIssuer
from gatehouse.application.ports.mfa import MfaChallenge
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.second_factor import Factor, SecondFactor
from gatehouse.application.security_notices import Notice, send_notice
from gatehouse.application.throttle_notice import ThrottleNotice
from gatehouse.application.use_cases.sessions import TokenPair, open_session
from gatehouse.domain.user import User

CHALLENGE_TTL = timedelta(minutes=5)
MAX_WRONG_CODES = 5
DEAD_TOKEN = "The mfa_token is unknown, spent or expired: log in again"  # noqa: S105 - a message
WRONG_CODE = "The code is wrong"


async def issue_challenge(
    uow: UnitOfWork, secret_tokens: SecretTokens, user: User, identifier: str, now: datetime
) -> MfaRequiredError:
    """Store a challenge for `user` (in the log-in's own transaction) and the 403 that carries its
    token; wrong codes against it count toward the throttle of `identifier` (as typed at the
    password step)."""
    token, fingerprint = secret_tokens.new()
    await uow.mfa.add_challenge(
        user_id=user.id,
        fingerprint=fingerprint,
        throttle_key=login_throttle_key(identifier),
        now=now,
        expires_at=now + CHALLENGE_TTL,
    )
    return MfaRequiredError(token, int(CHALLENGE_TTL.total_seconds()))


class CompleteMfaLogin:
    """Exchange an `mfa_token` and a code for a session and its token pair.

    - A spent, expired, dead (5 wrong codes) or unknown token: 401, checked before the throttle.
    - The code is the current TOTP code (±1 step; each step accepted once per account) or an unused
      recovery code (then spent, audited, and the account told).
    - A wrong code: 401, `auth.mfa_failed`; it counts toward the log-in throttle of the identifier
      used at the password step (429 once that is exhausted, and the account told once per
      window) and against the token (5 kill it).
    - The token and the code are spent only with the session they open, in one transaction: of
      two simultaneous requests with one token and one code, exactly one gets the pair.
    - A deactivated account, or one whose MFA was turned off or reset since: 401 (the token died).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        mfa_token: str = field(repr=False)
        code: str = field(repr=False)
        ip: str | None = None
        user_agent: str | None = None

    def __init__(
        self,
        uow: UnitOfWork,
        queries: UserQueries,
        factor: SecondFactor,
        secret_tokens: SecretTokens,
        tokens: TokenIssuer,
        counters: Counters,
        clock: Clock,
        max_failures: int,
    ) -> None:
        self._uow = uow
        self._notice = ThrottleNotice(uow, queries, counters, clock)
        self._factor = factor
        self._secret_tokens = secret_tokens
        self._tokens = tokens
        self._attempts = GuardedAttempts(counters, max_failures, LOGIN_WINDOW_SECONDS)
        self._clock = clock

    async def execute(self, command: Command) -> TokenPair:
        fingerprint = self._secret_tokens.fingerprint(command.mfa_token)
        async with self._uow as uow:
            challenge = await uow.mfa.find_challenge(fingerprint)
        if challenge is None or not challenge.is_usable(self._clock.now(), MAX_WRONG_CODES):
            raise AuthenticationError(DEAD_TOKEN)
        try:
            async with self._attempts.attempt(challenge.throttle_key) as outcome:
                pair = await self._try(command, challenge)
                outcome.failed = pair is None
        except RateLimitedError:
            await self._notice.throttled(identifier_of(challenge.throttle_key))
            raise
        if pair is None:
            raise AuthenticationError(WRONG_CODE)
        return pair

    async def _try(self, command: Command, challenge: MfaChallenge) -> TokenPair | None:
        """The pair, or None for a wrong (or replayed) code, counted against the token.

        The attempt is counted first (`attempt_challenge`: one atomic UPDATE that also locks the
        token's row until this transaction ends), so simultaneous codes against one token are
        checked one after another and at most `MAX_WRONG_CODES` of them are ever tried; a right
        code then spends the token and takes its count back."""
        now = self._clock.now()
        async with self._uow as uow:
            user = await uow.users.lock(challenge.user_id)
            enrolment = await uow.mfa.get(challenge.user_id)
            if user is None or not user.is_active or enrolment is None or not enrolment.confirmed:
                raise AuthenticationError(DEAD_TOKEN)
            failures = await uow.mfa.attempt_challenge(challenge.id, now, MAX_WRONG_CODES)
            if failures is None:
                raise AuthenticationError(DEAD_TOKEN)
            factor = await self._factor.accept(uow, enrolment, command.code, now, recovery=True)
            if factor is None:
                details = {"failures": failures, "token_dead": failures >= MAX_WRONG_CODES}
                await record(uow, AuditAction.MFA_FAILED, at=now, user_id=user.id, details=details)
                await uow.commit()
                return None
            await uow.mfa.spend_challenge(challenge.id, now)
            pair = await open_session(
                uow,
                self._tokens,
                user.id,
                now,
                ip=command.ip,
                user_agent=command.user_agent,
                details={"factor": factor.value},
            )
            if factor is Factor.RECOVERY_CODE:
                left = await uow.mfa.unused_recovery_codes(user.id)
                await record(
                    uow,
                    AuditAction.RECOVERY_CODE_USED,
                    at=now,
                    user_id=user.id,
                    actor_id=user.id,
                    details={"remaining": left},
                )
                detail = f"{left} unused recovery codes are left"
                await send_notice(uow, Notice.RECOVERY_CODE_USED, user, at=now, detail=detail)
            await uow.commit()
            return pair
