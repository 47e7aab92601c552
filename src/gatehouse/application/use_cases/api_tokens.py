"""Personal API tokens: create (the secret shown once), list, revoke (CONTRACT §13)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from gatehouse.application.api_token_format import digest, new_api_token
from gatehouse.application.audit_log import record
from gatehouse.application.credential_checks import session_still_live
from gatehouse.application.errors import ConflictError, NotFoundError
from gatehouse.application.ports.api_tokens import ApiToken, NewApiToken
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.security_notices import Notice, send_notice
from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.policy import Actor, check_can_manage_tokens_of, check_token_scopes
from gatehouse.domain.scopes import ordered, parse_scopes
from gatehouse.domain.user import User

# Live tokens an account may hold at once: enough for every script, bounded so a stolen session
# can't fill the table.
MAX_LIVE_TOKENS = 100
MAX_NAME_LENGTH = 100
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class CreatedApiToken:
    token: ApiToken
    secret: str = field(repr=False)


# A name is printed in lists and tables: no control character, line break or bidi override, and at
# least one character that shows (not only spaces, zero-width or filler characters). The HTTP
# schema states this same pattern (schemas/api_tokens.py).
_UNPRINTABLE = r"\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_INVISIBLE = r"\s\u00ad\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u2800\u3164\ufeff\uffa0"
NAME_PATTERN = rf"^[^{_UNPRINTABLE}]*[^{_UNPRINTABLE}{_INVISIBLE}][^{_UNPRINTABLE}]*$"
_NAME = re.compile(NAME_PATTERN)


def token_name(name: str) -> str:
    """1-100 characters, trimmed, matching `NAME_PATTERN` (422 naming `name`)."""
    cleaned = name.strip()
    if _NAME.fullmatch(name) is None or not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidValueError(
            "name",
            f"A token's name is 1 to {MAX_NAME_LENGTH} characters with one that shows, and no control "
            "character, line break or bidi override",
        )
    return cleaned


async def _owner(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    check_can_manage_tokens_of(actor, user_id)
    owner = await uow.users.get(user_id)
    if owner is None:
        raise NotFoundError(f"User with id {user_id} not found")
    return owner


@dataclass(frozen=True, slots=True)
class CreateApiToken:
    """Create an API token for an account; its secret is in the answer, this once.

    - By the account's own session, an admin's session, or the operator; never by an API token (403).
    - `scopes`: at least one known scope (422 naming an unknown one); `introspect` only for an
      admin's token (403). A scope never grants more than the owner's role when the token is used.
    - `expires_in_days`: 1 to `GATEHOUSE_API_TOKEN_MAX_DAYS` (422), 30 when not given (or that
      maximum, if shorter); `name`: 1-100 characters, not blank, no control character.
    - At most 100 live tokens per account (409: revoke one first); an inactive account gets none (409).
    - The caller's session is checked again under the owner's lock: one that a password reset ended
      meanwhile makes no token (401).
    - Audit `token.created` (its id, name and scopes); the owner is told (a security notice).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int
        name: str
        scopes: Sequence[str]
        expires_in_days: int | None = None  # None: 30 days (or the longest allowed, if shorter)

    uow: UnitOfWork
    clock: Clock
    max_days: int

    async def execute(self, command: Command) -> CreatedApiToken:
        name = token_name(command.name)
        scopes = parse_scopes(command.scopes)
        days = (
            command.expires_in_days
            if command.expires_in_days is not None
            else min(DEFAULT_DAYS, self.max_days)
        )
        if not 1 <= days <= self.max_days:
            raise InvalidValueError("expires_in_days", f"A token lives 1 to {self.max_days} days")
        secret = new_api_token()
        check_can_manage_tokens_of(command.actor, command.user_id)
        async with self.uow as uow:
            owner = await uow.users.lock(command.user_id, exclusive=True)  # one count at a time
            if owner is None:
                raise NotFoundError(f"User with id {command.user_id} not found")
            now = self.clock.now()
            await session_still_live(uow, command.actor, now)
            check_token_scopes(owner, scopes)
            if not owner.is_active:
                raise ConflictError("An inactive account can't have API tokens")
            if await uow.api_tokens.count_live(owner.id, now) >= MAX_LIVE_TOKENS:
                raise ConflictError(f"An account holds at most {MAX_LIVE_TOKENS} live API tokens; revoke one")
            token = await uow.api_tokens.add(
                NewApiToken(
                    user_id=owner.id,
                    name=name,
                    scopes=scopes,
                    digest=digest(secret),
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
            )
            named = [scope.value for scope in ordered(scopes)]
            details = {"token_id": token.id, "name": name, "scopes": named}
            await record(
                uow, AuditAction.TOKEN_CREATED, at=now, user_id=owner.id, actor=command.actor, details=details
            )
            # The id and scopes, not the name: a caller's text in the mail could pass for a link.
            detail = f"token {token.id}, scopes {' '.join(named)}"
            await send_notice(uow, Notice.API_TOKEN_CREATED, owner, at=now, detail=detail)
            await uow.commit()
        return CreatedApiToken(token=token, secret=secret)


@dataclass(frozen=True, slots=True)
class ListApiTokens:
    """An account's API tokens that are not revoked (expired ones included), oldest first, without
    their secrets.

    - One's own by a session; anyone's by an admin's session (403 otherwise; API tokens: 403).
    - `user_id=None` (the operator only): every account's.
    """

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        user_id: int | None

    uow: UnitOfWork

    async def execute(self, query: Query) -> Sequence[ApiToken]:
        async with self.uow as uow:
            if query.user_id is None:
                if not query.actor.is_operator:
                    raise InvalidValueError("user_id", "Name the account whose tokens to list")
                return await uow.api_tokens.list_unrevoked(None)
            await _owner(uow, query.actor, query.user_id)
            return await uow.api_tokens.list_unrevoked(query.user_id)


@dataclass(frozen=True, slots=True)
class RevokeApiToken:
    """Revoke an API token: it stops working at once, on every worker.

    - One's own by a session; anyone's by an admin's session or the operator (`user_id=None`:
      whoever owns it). A token that is not the account's, or is already revoked: 404.
    - Audit `token.revoked` (its id and name).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int | None
        token_id: int

    uow: UnitOfWork
    clock: Clock

    async def execute(self, command: Command) -> ApiToken:
        async with self.uow as uow:
            if command.user_id is not None:
                await _owner(uow, command.actor, command.user_id)
            elif not command.actor.is_operator:
                raise InvalidValueError("user_id", "Name the account whose token to revoke")
            token = await uow.api_tokens.get(command.token_id)
            mine = token is not None and command.user_id in (None, token.user_id)
            now = self.clock.now()
            if token is None or not mine or not await uow.api_tokens.revoke(token.id, now):
                raise NotFoundError(f"API token with id {command.token_id} not found")
            details = {"token_id": token.id, "name": token.name}
            await record(
                uow,
                AuditAction.TOKEN_REVOKED,
                at=now,
                user_id=token.user_id,
                actor=command.actor,
                details=details,
            )
            await uow.commit()
        return token
