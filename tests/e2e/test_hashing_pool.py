"""§5 the bounded hashing pool over HTTP: a full pool answers 503 at once, reads stay served."""

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from dependency_injector import providers
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.domain.values import RawPassword
from tests.conftest import TEST_ARGON2
from tests.e2e.conftest import Account, Api, assert_envelope, start
from tests.e2e.conftest import test_settings as settings_for

ANSWER_WITHIN_S = 5.0
SIGN_UP = {"email": "latecomer@example.com", "username": "latecomer", "password": "Secret123"}


@asynccontextmanager
async def api_with_hasher(
    tmp_path: Path, *, max_queue: int
) -> AsyncIterator[tuple[Api, Argon2PasswordHasher]]:
    """The real app whose hashing pool has one thread and room for `max_queue` waiting calls."""
    container, app = await start(settings_for(tmp_path))
    hasher = Argon2PasswordHasher(
        TEST_ARGON2, workers=1, max_queue=max_queue, observe_depth=container.hash_depth_observer()
    )
    container.hasher.override(providers.Object(hasher))
    async with AsyncTestClient(app) as client:
        yield Api(client, container), hasher


@contextmanager
def thread_held(hasher: Argon2PasswordHasher) -> Iterator[None]:
    """Keep the pool's only thread busy until the block ends (as a very slow hash would)."""
    gate = threading.Event()
    blocker = hasher._executor.submit(gate.wait, 30)  # test seam: the pool's own executor
    try:
        yield
    finally:
        gate.set()
        blocker.result(timeout=30)


async def admitted_hashes(hasher: Argon2PasswordHasher, count: int) -> list[asyncio.Task[str]]:
    """`count` hashes admitted to the pool (and left waiting for the held thread)."""
    tasks = [asyncio.create_task(hasher.hash(RawPassword("Filler-Pass-1"))) for _ in range(count)]
    await asyncio.sleep(0)  # one loop turn: each task is admitted before its first await
    return tasks


async def timed(request: Awaitable[httpx.Response]) -> httpx.Response:
    """The answer, which must come at once: a full pool refuses, it doesn't queue."""
    async with asyncio.timeout(ANSWER_WITHIN_S):
        return await request


def assert_busy(response: httpx.Response) -> None:
    assert_envelope(response, 503, "ServiceUnavailableError")
    assert int(response.headers["retry-after"]) >= 1


async def attempts_while_full(api: Api, account: Account) -> dict[str, httpx.Response]:
    client = api.client
    return {
        "login": await timed(
            client.post("/api/v1/auth/token", json={"email": account.email, "password": account.password})
        ),
        "sign-up": await timed(client.post("/api/v1/users", json=SIGN_UP)),
        "me": await timed(client.get("/api/v1/users/me", headers=account.auth)),
    }


async def test_a_full_pool_refuses_logins_and_sign_ups_with_503_while_reads_are_served(
    tmp_path: Path,
) -> None:
    async with api_with_hasher(tmp_path, max_queue=0) as (api, hasher):
        account = await api.create_account()
        with thread_held(hasher):
            held = await admitted_hashes(hasher, 1)
            during = await attempts_while_full(api, account)
        await asyncio.gather(*held)
        login_after = await api.client.post(
            "/api/v1/auth/token", json={"email": account.email, "password": account.password}
        )
        sign_up_after = await api.client.post("/api/v1/users", json=SIGN_UP)

    assert_busy(during["login"])
    assert_busy(during["sign-up"])
    assert during["me"].status_code == 200
    assert during["me"].json()["id"] == account.id
    assert login_after.status_code == 200, login_after.text
    assert sign_up_after.status_code == 201, sign_up_after.text  # the refused sign-up created nothing


async def test_a_refused_password_change_leaves_the_password_as_it_was(tmp_path: Path) -> None:
    async with api_with_hasher(tmp_path, max_queue=0) as (api, hasher):
        account = await api.create_account()
        change = {"current_password": account.password, "new_password": "Brand-New-Pass-7"}
        with thread_held(hasher):
            held = await admitted_hashes(hasher, 1)
            refused = await timed(
                api.client.post("/api/v1/users/me/password", json=change, headers=account.auth)
            )
        await asyncio.gather(*held)
        old_password_login = await api.client.post(
            "/api/v1/auth/token", json={"email": account.email, "password": account.password}
        )

    assert_busy(refused)
    assert old_password_login.status_code == 200


async def test_metrics_report_hashes_waiting_for_a_thread(tmp_path: Path) -> None:
    async with api_with_hasher(tmp_path, max_queue=1) as (api, hasher):
        account = await api.create_account()
        with thread_held(hasher):
            held = await admitted_hashes(hasher, 2)
            waiting = await api.client.get("/metrics")
            during = await attempts_while_full(api, account)
        await asyncio.gather(*held)
        idle = await api.client.get("/metrics")

    def depth(response: httpx.Response) -> list[float]:
        return [
            s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
            if s.name == "gatehouse_password_hash_queue_depth"
        ]

    assert depth(waiting) == [1.0]
    assert depth(idle) == [0.0]
    assert_busy(during["login"])
    assert during["me"].status_code == 200
