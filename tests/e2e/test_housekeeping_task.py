"""§5 housekeeping in the server: each worker's background task prunes on its own, one worker at a
time, and neither a dead database nor a shutdown catches it out."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.tables import task_leases
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.use_cases.housekeeping import PruneReport
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.housekeeping import HousekeepingTask
from gatehouse.entrypoints.settings import SettingsError, load_settings
from tests.databases import ENGINES
from tests.e2e.conftest import Api, database_url, start, test_settings
from tests.housekeeping_builders import (
    NewUow,
    idempotency_stored,
    plant_idempotency_record,
    plant_session,
    plant_user,
    session_stored,
)

HOUR = timedelta(hours=1)
DEADLINE_S = 20.0
HOUSEKEEPING_LOGGER = "gatehouse.housekeeping"


@asynccontextmanager
async def running_app(engine: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[Api, NewUow]]:
    """The real app with its lifespan (so its background tasks start and stop) over `engine`, and
    units of work over the same data for the test. The test client runs the app in an event loop
    of its own, so the test reaches the data through a `Database` of its own, never the app's."""
    async with database_url(engine, tmp_path) as url:
        settings = test_settings(tmp_path, database_url=url, mail_poll_seconds=0, **overrides)
        container, app = await start(settings)
        await container.database().dispose()  # its connections belong to this loop, not the app's
        mine = Database(url)
        try:
            async with AsyncTestClient(app) as client:
                yield Api(client, container), lambda: SqlAlchemyUnitOfWork(mine)
        finally:
            await mine.dispose()


async def eventually(condition: Any, what: str) -> None:
    """Poll the async `condition` until it holds, failing with `what` after a generous deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not await condition():
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE_S}s"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_running_app_prunes_an_ended_session_on_its_own(engine: str, tmp_path: Path) -> None:
    async with running_app(engine, tmp_path, housekeeping_seconds=1.0) as (api, new_uow):
        now = datetime.now(UTC)
        ada = await plant_user(new_uow, "ada", now - 30 * HOUR)
        ended = await plant_session(
            new_uow, ada, created_at=now - 3 * HOUR, expires_at=now + HOUR, revoked_at=now - 2 * HOUR
        )
        live = await plant_session(new_uow, ada, created_at=now - 3 * HOUR, expires_at=now + HOUR)
        await plant_idempotency_record(new_uow, "fresh", now - HOUR, answered=True)

        async def ended_is_gone() -> bool:
            return not await session_stored(new_uow, ended.id)

        await eventually(ended_is_gone, "the revoked session was not pruned")

        assert await session_stored(new_uow, live.id)
        assert await idempotency_stored(new_uow, "fresh")
        assert (await api.client.get("/health/live")).status_code == 200


@asynccontextmanager
async def two_workers(engine: str, tmp_path: Path) -> AsyncIterator[tuple[Container, Container]]:
    """Two containers (two pools, as two worker processes have) over one database."""
    async with database_url(engine, tmp_path) as url:
        settings = test_settings(tmp_path, database_url=url)
        first, _ = await start(settings)
        second = Container(settings=settings)
        first.lease_holder.override(providers.Object("worker-1"))
        second.lease_holder.override(providers.Object("worker-2"))
        try:
            yield first, second
        finally:
            await second.database().dispose()
            await first.database().dispose()
            first.hasher().close()


@pytest.mark.parametrize("engine", ENGINES)
async def test_of_two_workers_passing_at_once_only_one_prunes(engine: str, tmp_path: Path) -> None:
    async with two_workers(engine, tmp_path) as (first, second):
        await plant_idempotency_record(first.uow, "old", datetime.now(UTC) - 30 * HOUR, answered=True)

        reports = await asyncio.gather(
            first.run_housekeeping().execute(), second.run_housekeeping().execute()
        )
        again = await asyncio.gather(first.run_housekeeping().execute(), second.run_housekeeping().execute())

        done = [r for r in reports if r is not None]
        assert done == [PruneReport(idempotency_records=1)]
        assert list(again) == [None, None]  # the lease holds for the interval (an hour by default)
        winner = "worker-1" if reports[0] is not None else "worker-2"
        async with first.database().read_engine.connect() as conn:
            holder = (await conn.execute(select(task_leases.c.holder))).scalar_one()
        assert holder == winner


def housekeeping_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == HOUSEKEEPING_LOGGER]


async def stops_within(task: HousekeepingTask, seconds: float = 10.0) -> bool:
    try:
        await asyncio.wait_for(task.stop(), seconds)
    except TimeoutError:
        return False
    return True


async def test_a_pass_that_meets_a_dead_database_logs_one_line_and_the_next_pass_tries_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = tmp_path / "no-such-directory" / "gatehouse.db"
    container = Container(settings=test_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{unreachable}"))
    task = HousekeepingTask(container.run_housekeeping, interval_s=0.05)
    caplog.set_level(logging.INFO, logger=HOUSEKEEPING_LOGGER)
    try:
        task.start()

        async def failed_twice() -> bool:
            return len(housekeeping_records(caplog)) >= 2

        await eventually(failed_twice, "two failed passes")

        assert task.is_running()  # a failure never ends the task, let alone the worker
    finally:
        assert await stops_within(task), "HousekeepingTask.stop() hung"
        await container.database().dispose()
    assert not task.is_running()
    for record in housekeeping_records(caplog):
        assert record.getMessage() == "housekeeping_failed"
        assert record.levelno == logging.WARNING
        assert record.__dict__["error"] == "ServiceUnavailableError"
        assert record.exc_info is None  # no stack trace, whose text could carry a statement's parameters


@pytest.mark.parametrize("engine", ENGINES)
async def test_stop_is_prompt_while_the_task_waits_for_its_next_pass(engine: str, tmp_path: Path) -> None:
    async with running_app(engine, tmp_path) as (api, _):
        task = HousekeepingTask(api.container.run_housekeeping, interval_s=3600)
        task.start()
        await asyncio.sleep(0)
        assert task.is_running()

        assert await stops_within(task), "HousekeepingTask.stop() hung"
        assert not task.is_running()


def test_the_interval_is_set_in_seconds_and_zero_turns_it_off() -> None:
    assert load_settings({}, dotenv=None).housekeeping_seconds == 3600
    assert load_settings({"GATEHOUSE_HOUSEKEEPING_SECONDS": "0"}, dotenv=None).housekeeping_seconds == 0
    with pytest.raises(SettingsError, match="GATEHOUSE_HOUSEKEEPING_SECONDS"):
        load_settings({"GATEHOUSE_HOUSEKEEPING_SECONDS": "-1"}, dotenv=None)
