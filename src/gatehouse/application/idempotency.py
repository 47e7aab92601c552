"""Create at most once per idempotency key: claim it, create, store the answer with the change, replay it."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.idempotency import (
    ClaimIdempotencyKey,
    ClaimOutcome,
    ReleaseIdempotencyKey,
)

C = TypeVar("C")
T = TypeVar("T")
In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)

# Run by a creating use case inside its transaction, after the row is written and before the commit.
AfterCreate = Callable[[UnitOfWork, T], Awaitable[None]]


class CreatingUseCase(Protocol[In, Out]):
    """A use case that creates one aggregate and runs `after_create` in its transaction."""

    async def execute(self, command: In, /, after_create: AfterCreate[Out] | None = None) -> Out: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to give: a new one, or the first answer to this key again (`replayed`)."""

    response: StoredResponse
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class IdempotentCreation:
    """Run a creation once per (caller scope, key); a retry of the same request gets the same answer.

    - Without a key: create and answer; nothing is stored.
    - With a key: claim it first (`ClaimIdempotencyKey`: the stored answer replayed, 409 while the
      first request runs, 422 for the same key with another request), then create; the rendered
      answer is stored in the creation's own transaction, so no crash keeps one without the other.
    - A creation that fails, for whatever reason, releases the key.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command(Generic[C, T]):
        use_case: CreatingUseCase[C, T]
        command: C
        render: Callable[[T], StoredResponse]  # the driver's answer, byte for byte as it is replayed
        claim: ClaimIdempotencyKey.Command | None  # None: the request carries no key

    claim: ClaimIdempotencyKey
    release: ReleaseIdempotencyKey

    async def execute(self, command: "IdempotentCreation.Command[C, T]") -> Answer:
        claim, render = command.claim, command.render
        if claim is None:
            return Answer(render(await command.use_case.execute(command.command)))
        first = await self.claim.execute(claim)
        if first.outcome is ClaimOutcome.REPLAY and first.response is not None:
            return Answer(first.response, replayed=True)

        async def store(uow: UnitOfWork, created: T) -> None:
            await uow.idempotency.finish(claim.scope, claim.key, render(created))

        try:
            return Answer(render(await command.use_case.execute(command.command, after_create=store)))
        except BaseException:
            await self.release.execute(ReleaseIdempotencyKey.Command(scope=claim.scope, key=claim.key))
            raise
