"""The background housekeeping: every worker tries `RunHousekeeping` once an interval; the lease lets
one of them prune.

The first pass comes shortly after start (after the interval, or 30 s if that is sooner), so a
fleet that restarts often still prunes. A failed pass (the database is down) is one log line
naming the error's type, never its text (which can carry a statement's parameters); the next pass
tries again. Nothing it meets ends the worker.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from gatehouse.application.use_cases.housekeeping import PruneReport, RunHousekeeping

log = logging.getLogger("gatehouse.housekeeping")
FIRST_PASS_AFTER_AT_MOST_S = 30.0
STOP_POLL_S = 0.2


class HousekeepingTask:
    def __init__(self, run: Callable[[], RunHousekeeping], interval_s: float) -> None:
        self._run = run
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="gatehouse-housekeeping")

    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Ends the loop at once, mid-pass if need be: the batch in flight rolls back, and what it
        would have deleted waits for the next pass (here or in another worker)."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_POLL_S)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            task.result()

    async def _loop(self) -> None:
        await asyncio.sleep(min(self._interval_s, FIRST_PASS_AFTER_AT_MOST_S))
        while not self._stopping:
            await self.run_once()
            await asyncio.sleep(self._interval_s)

    async def run_once(self) -> PruneReport | None:
        """One pass: the report when this worker pruned, None when another held the lease or it failed."""
        try:
            report = await self._run().execute()
        except Exception as exc:
            log.warning(
                "housekeeping_failed", extra={"event": "housekeeping_failed", "error": type(exc).__name__}
            )
            return None
        if report is not None:
            log.info("housekeeping", extra={"event": "housekeeping", "deleted": report.counts()})
        return report
