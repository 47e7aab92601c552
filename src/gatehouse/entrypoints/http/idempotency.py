"""`Idempotency-Key` on creating POSTs: the key, its caller scope and the request's fingerprint in,
the answer out (claiming, creating and storing: application/idempotency.py)."""

import hashlib
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import msgspec
from litestar import Request, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation

from gatehouse.application.idempotency import CreatingUseCase, IdempotentCreation
from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.use_cases.idempotency import ClaimIdempotencyKey
from gatehouse.domain.policy import Actor
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.docs import returns
from gatehouse.entrypoints.http.openapi import IDEMPOTENCY_KEY, JSON, documented
from gatehouse.entrypoints.http.problems import BadRequestError

MAX_KEY_LENGTH = 255
C = TypeVar("C")
T = TypeVar("T")


class Identified(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Identified)


def creating(body: type[Any]) -> type[Operation]:
    """The operation of a creating POST: a JSON body, an optional `Idempotency-Key`, and the
    answer's `Location` (and `Idempotent-Replayed` on a replay)."""
    return documented(
        (JSON, body),
        request_headers=[IDEMPOTENCY_KEY],
        response_headers={201: ["Location", "Idempotent-Replayed"]},
    )


def created(out: type[Any]) -> dict[int, ResponseSpec]:
    return returns(201, out, "Created (or the replay of an earlier answer to this Idempotency-Key)")


def stored_under(prefix: str, render: Callable[[R], Any]) -> Callable[[R], StoredResponse]:
    """The answer to keep for a created resource: 201, its JSON, its `Location` under `prefix`."""

    def stored(resource: R) -> StoredResponse:
        return StoredResponse(201, msgspec.json.encode(render(resource)), f"{prefix}/{resource.id}")

    return stored


def as_response(stored: StoredResponse, *, replayed: bool = False) -> Response[bytes]:
    headers = {"Location": stored.location} if stored.location else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(stored.body, status_code=stored.status, media_type="application/json", headers=headers)


async def claim_of(
    request: Request[Any, Any, Any], actor: Actor | None
) -> ClaimIdempotencyKey.Command | None:
    """The request's key, scoped to the caller (the account, else the client IP); None without one."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequestError("Idempotency-Key must be 1-255 printable characters")
    ctx = context_of(request.scope)
    scope = f"user:{actor.user_id}" if actor is not None else f"ip:{ctx.ip}"
    body = await request.body()
    fingerprint = hashlib.sha256(f"{request.method} {ctx.path}\n".encode() + body).hexdigest()
    return ClaimIdempotencyKey.Command(scope=scope, key=key, fingerprint=fingerprint)


async def create_once(
    request: Request[Any, Any, Any],
    actor: Actor | None,
    creation: IdempotentCreation,
    use_case: CreatingUseCase[C, T],
    command: C,
    render: Callable[[T], StoredResponse],
) -> Response[bytes]:
    """Run `use_case` once per (caller, key): a retry with the same body replays the first answer."""
    claim = await claim_of(request, actor)
    answer = await creation.execute(
        IdempotentCreation.Command(use_case=use_case, command=command, render=render, claim=claim)
    )
    return as_response(answer.response, replayed=answer.replayed)
