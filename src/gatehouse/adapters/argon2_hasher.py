"""Argon2id hashing in a bounded thread pool, off the event loop."""

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.domain.values import RawPassword

T = TypeVar("T")
# The nice value added to the hashing threads' (ADR 0023; GATEHOUSE_HASH_NICENESS): a hash
# yields the core to the event loop, so a flood of log-ins slows log-ins, not every other request.
# At +10 a hashing thread gets ~10 % of a core the loop (or any other process) wants (CFS weights
# 110 vs 1024) and all of one nobody wants; +19 (~1.5 %) favours reads more but lets any busy
# process on the host starve log-ins.
HASHING_NICENESS = 10
DUMMY_PASSWORD = "gatehouse-dummy-password-for-even-timing"  # noqa: S105 - not a credential


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """OWASP's floor for argon2id by default: t=2, m=19 MiB, p=1 (see ADR 0005)."""

    time_cost: int = 2
    memory_cost_kib: int = 19 * 1024
    parallelism: int = 1


class Argon2PasswordHasher(PasswordHasher):
    """Runs argon2 in `workers` threads (argon2-cffi releases the GIL while hashing).

    At most `workers + max_queue` calls are in flight; one more gets
    `ServiceUnavailableError` at once instead of queueing without bound.
    """

    def __init__(
        self,
        parameters: Argon2Parameters | None = None,
        *,
        workers: int = 2,
        max_queue: int = 32,
        observe_depth: Callable[[int], None] | None = None,
        niceness: int = HASHING_NICENESS,
    ) -> None:
        p = parameters or Argon2Parameters()
        self._argon2 = _Argon2(
            time_cost=p.time_cost,
            memory_cost=p.memory_cost_kib,
            parallelism=p.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._workers = workers
        self._capacity = workers + max_queue
        self._in_flight = 0
        self._executor = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="argon2",
            initializer=lower_thread_priority,
            initargs=(niceness,),
        )
        self._dummy_hash = self._argon2.hash(DUMMY_PASSWORD)
        self._observe_depth = observe_depth

    @property
    def queue_depth(self) -> int:
        """Calls waiting for a thread (not counting those being hashed now)."""
        return max(0, self._in_flight - self._workers)

    async def hash(self, password: RawPassword) -> str:
        return await self._run(self._argon2.hash, password.value)

    async def verify(self, password_hash: str, password: RawPassword) -> bool:
        return await self._run(self._verify_sync, password_hash, password.value)

    async def verify_dummy(self, password: RawPassword) -> None:
        await self._run(self._verify_sync, self._dummy_hash, password.value)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def thread_niceness(self) -> int:
        """The nice value a hashing thread runs at (for tests and diagnostics)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, current_thread_niceness)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        if self._in_flight >= self._capacity:
            raise ServiceUnavailableError("Password hashing is busy; retry shortly", retry_after=1)
        self._in_flight += 1
        self._report()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._in_flight -= 1
            self._report()

    def _report(self) -> None:
        if self._observe_depth is not None:
            self._observe_depth(self.queue_depth)


def lower_thread_priority(niceness: int) -> None:
    """Raise the calling thread's nice value by `niceness` (Linux keeps one per thread; elsewhere
    the value is per process, so nothing is changed). Lowering priority needs no privilege."""
    if sys.platform != "linux" or niceness <= 0:
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except OSError:  # a sandbox that forbids it: hashing runs at the loop's priority, as before
        return


def current_thread_niceness() -> int:
    if sys.platform != "linux":
        return os.getpriority(os.PRIO_PROCESS, 0)
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
