"""One shape for the server's background drivers (the mail relay, housekeeping): a task started with
the app and stopped with it, promptly, whatever the pass in flight is doing."""

import asyncio
import contextlib

STOP_POLL_S = 0.2


class BackgroundLoop:
    """Subclasses give `name` and `_loop`; `_loop` ends when `_stopping` is set."""

    name = "gatehouse-background"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Ends the loop. A cancellation can be swallowed by a library mid-call (asyncio.wait_for on
        Python 3.11, inside aiosmtplib), so it is repeated until the task is done; the flag ends
        the loop anyway. A pass cut short rolls back; its work waits for the next one."""
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
        raise NotImplementedError
