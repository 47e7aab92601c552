"""The container closes what it opened, for every driver, and opens nothing just to close it."""

from pathlib import Path

import pytest

from gatehouse.domain.values import RawPassword
from gatehouse.entrypoints.builders import Resources
from gatehouse.entrypoints.container import Container, close_resources
from gatehouse.entrypoints.settings import load_settings


async def test_closers_run_once_in_reverse_order_sync_and_async() -> None:
    resources = Resources()
    closed: list[str] = []

    async def close_database() -> None:
        closed.append("database")

    resources.on_close(close_database)
    resources.on_close(lambda: closed.append("hasher"))
    await resources.close()
    await resources.close()
    assert closed == ["hasher", "database"]


async def test_a_container_closes_only_the_resources_it_built(tmp_path: Path) -> None:
    settings = load_settings({"GATEHOUSE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/g.db"}, dotenv=None)
    unused = Container(settings=settings)
    await close_resources(unused)
    assert len(unused.resources()) == 0
    assert not (tmp_path / "g.db").exists()  # closing opened no database to close it

    used = Container(settings=settings)
    used.database()
    hasher = used.hasher()
    assert await hasher.verify(await hasher.hash(RawPassword("correct horse")), RawPassword("correct horse"))
    assert len(used.resources()) == 2
    await close_resources(used)
    assert len(used.resources()) == 0
    with pytest.raises(RuntimeError):  # the hashing threads are gone
        await hasher.hash(RawPassword("correct horse"))
