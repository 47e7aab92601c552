"""`Idempotency-Key` on creating POSTs: claim, run, store the answer in the same transaction, replay."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request, Response

from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.idempotency import (
    ClaimIdempotencyKey,
    ClaimOutcome,
    ReleaseIdempotencyKey,
)
from gatehouse.domain.policy import Actor
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.problems import BadRequestError

MAX_KEY_LENGTH = 255
T = TypeVar("T")
Recorder = Callable[[UnitOfWork, StoredResponse], Awaitable[None]]
BeforeCommit = Callable[[UnitOfWork, T], Awaitable[None]]


def as_response(stored: StoredResponse, *, replayed: bool = False) -> Response[bytes]:
    headers = {"Location": stored.location} if stored.location else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(stored.body, status_code=stored.status, media_type="application/json", headers=headers)


async def idempotent(
    request: Request[Any, Any, Any],
    actor: Actor | None,
    claim: ClaimIdempotencyKey,
    release: ReleaseIdempotencyKey,
    create: Callable[[Recorder | None], Awaitable[StoredResponse]],
) -> Response[bytes]:
    """Run `create` once per (caller, key): a retry with the same body replays the first answer."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return as_response(await create(None))
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequestError("Idempotency-Key must be 1-255 printable characters")
    ctx = context_of(request.scope)
    scope = f"user:{actor.user_id}" if actor is not None else f"ip:{ctx.ip}"
    body = await request.body()
    fingerprint = hashlib.sha256(f"{request.method} {ctx.path}\n".encode() + body).hexdigest()
    outcome = await claim.execute(scope, key, fingerprint)
    if outcome.outcome is ClaimOutcome.REPLAY and outcome.response is not None:
        return as_response(outcome.response, replayed=True)

    async def record(uow: UnitOfWork, stored: StoredResponse) -> None:
        await uow.idempotency.finish(scope, key, stored)

    try:
        return as_response(await create(record))
    except BaseException:
        await release.execute(scope, key)
        raise


@dataclass(frozen=True, slots=True)
class IdempotentCreation:
    """The claim and release use cases of one request, handed to a creating route as one dependency."""

    claim: ClaimIdempotencyKey
    release: ReleaseIdempotencyKey

    async def run(
        self,
        request: Request[Any, Any, Any],
        actor: Actor | None,
        execute: Callable[[BeforeCommit[T]], Awaitable[T]],
        render: Callable[[T], StoredResponse],
    ) -> Response[bytes]:
        """Run `execute` (a use case given a before-commit hook) once per key; the rendered
        answer is stored by the hook inside the use case's own transaction."""

        async def create(record: Recorder | None) -> StoredResponse:
            async def before_commit(uow: UnitOfWork, created: T) -> None:
                if record is not None:
                    await record(uow, render(created))

            return render(await execute(before_commit))

        return await idempotent(request, actor, self.claim, self.release, create)
