"""One transaction over every repository."""

from types import TracebackType
from typing import Protocol, Self

from gatehouse.application.ports.api_tokens import ApiTokenRepository
from gatehouse.application.ports.audit import AuditTrail
from gatehouse.application.ports.credentials import AccountTokenRepository
from gatehouse.application.ports.idempotency import IdempotencyRepository
from gatehouse.application.ports.mail import MailOutbox
from gatehouse.application.ports.mfa import MfaRepository
from gatehouse.application.ports.orders import OrderRepository
from gatehouse.application.ports.sessions import SessionRepository
from gatehouse.application.ports.users import UserRepository


class UnitOfWork(Protocol):
    """One transaction: nothing persists unless `commit()` is awaited inside the block."""

    users: UserRepository
    sessions: SessionRepository
    orders: OrderRepository
    idempotency: IdempotencyRepository
    audit: AuditTrail
    outbox: MailOutbox
    account_tokens: AccountTokenRepository
    mfa: MfaRepository
    api_tokens: ApiTokenRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...
