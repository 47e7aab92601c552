"""The background housekeeping: every worker tries `RunHousekeeping` once an interval; the lease lets
one of them prune.

The first pass comes shortly after start (after the interval, or 30 s if that is sooner), so a
fleet that restarts often still prunes. A failed pass (the database is down) is one log line
naming the error's type, never its text (which can carry a statement's parameters); the next pass
tries again. Nothing it meets ends the worker.
"""

import asyncio
import logging
from collections.abc import Callable

from gatehouse.application.use_cases.housekeeping import PruneReport, RunHousekeeping
from gatehouse.entrypoints.background import BackgroundLoop

log = logging.getLogger("gatehouse.housekeeping")
FIRST_PASS_AFTER_AT_MOST_S = 30.0


class HousekeepingTask(BackgroundLoop):
    name = "gatehouse-housekeeping"

    def __init__(self, run: Callable[[], RunHousekeeping], interval_s: float) -> None:
        super().__init__()
        self._run = run
        self._interval_s = interval_s

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
