"""Fixed-window counters in Redis, shared by every worker and host."""

import logging

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from gatehouse.application.errors import CountersUnavailableError
from gatehouse.application.ports.counters import Counters, Reservation, WindowCount

log = logging.getLogger("gatehouse.redis")

# One round trip, atomic: the first increment of a key starts its window.
INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""

# KEYS[1] the window count, KEYS[2] the attempts running; ARGV: limit, window, running TTL.
# One round trip, atomic. The running count expires on its own (a worker that died mid-attempt
# gives its places back after RUNNING_TTL_SECONDS).
RESERVE = """
local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
if counted >= tonumber(ARGV[1]) then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[2]) end
  return {0, ttl}
end
local running = tonumber(redis.call('GET', KEYS[2]) or '0')
if counted + running >= tonumber(ARGV[1]) then return {0, -1} end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, 0}
"""
SETTLE = """
local running = tonumber(redis.call('GET', KEYS[2]) or '0')
if running > 1 then redis.call('DECR', KEYS[2]) else redis.call('DEL', KEYS[2]) end
if ARGV[1] == '1' then
  local count = redis.call('INCR', KEYS[1])
  if count == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
end
return 0
"""
RUNNING_TTL_SECONDS = 60
RUNNING_SUFFIX = ":running"


class RedisCounters(Counters):
    """Raises `CountersUnavailableError` while Redis is unreachable, logging one
    `dependency_down` line per outage (and one `dependency_up` when it answers again)."""

    def __init__(self, url: str, *, prefix: str = "gatehouse:", timeout_s: float = 1.0) -> None:
        # A blocking pool: a burst of concurrent requests waits for a connection (briefly) rather
        # than failing as if Redis were down.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=timeout_s * 4,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
        )
        self._redis = Redis.from_pool(pool)  # owns the pool: aclose() closes its connections
        self._prefix = prefix
        self._down = False
        self._increment = self._redis.register_script(INCREMENT)
        self._reserve = self._redis.register_script(RESERVE)
        self._settle = self._redis.register_script(SETTLE)

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        count, ttl = await self._call(self._increment, key, window_seconds)
        return WindowCount(int(count), max(1, int(ttl)))

    async def reserve(self, key: str, limit: int, window_seconds: int) -> Reservation:
        keys = [self._prefix + key, self._prefix + key + RUNNING_SUFFIX]
        granted, ttl = await self._run(self._reserve, keys, [limit, window_seconds, RUNNING_TTL_SECONDS])
        if granted:
            return Reservation(granted=True)
        return Reservation(granted=False, reset_after=max(1, int(ttl)) if int(ttl) >= 0 else None)

    async def settle(self, key: str, *, counted: bool, window_seconds: int) -> None:
        keys = [self._prefix + key, self._prefix + key + RUNNING_SUFFIX]
        await self._run(self._settle, keys, [1 if counted else 0, window_seconds])

    async def _run(self, script: object, keys: list[str], args: list[int]) -> list[int]:
        try:
            result = await script(keys=keys, args=args)  # type: ignore[operator]
        except (RedisError, OSError) as exc:
            self._went_down(exc)
            raise CountersUnavailableError("Redis is unreachable") from exc
        self._came_back()
        return [int(item) for item in result] if isinstance(result, list) else []

    async def answers(self) -> bool:
        """Whether Redis answers a PING now (the readiness probe's question); never raises."""
        try:
            await self._redis.ping()
        except (RedisError, OSError):
            return False
        return True

    async def close(self) -> None:
        await self._redis.aclose()

    async def _call(self, script: object, key: str, window_seconds: int) -> list[int]:
        try:
            result = await script(keys=[self._prefix + key], args=[window_seconds])  # type: ignore[operator]
        except (RedisError, OSError) as exc:
            self._went_down(exc)
            raise CountersUnavailableError("Redis is unreachable") from exc
        self._came_back()
        return [int(result[0]), int(result[1])]

    def _went_down(self, exc: BaseException) -> None:
        if not self._down:
            self._down = True
            log.error(
                "dependency_down",
                extra={"event": "dependency_down", "dependency": "redis", "error": type(exc).__name__},
            )

    def _came_back(self) -> None:
        if self._down:
            self._down = False
            log.warning("dependency_up", extra={"event": "dependency_up", "dependency": "redis"})


class FallbackCounters(Counters):
    """The shared store while it answers, this process's own counts while it does not."""

    def __init__(self, primary: Counters, fallback: Counters) -> None:
        self._primary = primary
        self._fallback = fallback
        self._granted_here: dict[str, int] = {}  # places the fallback granted, not yet settled

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        try:
            return await self._primary.increment(key, window_seconds)
        except CountersUnavailableError:
            return await self._fallback.increment(key, window_seconds)

    async def reserve(self, key: str, limit: int, window_seconds: int) -> Reservation:
        try:
            return await self._primary.reserve(key, limit, window_seconds)
        except CountersUnavailableError:
            place = await self._fallback.reserve(key, limit, window_seconds)
        if place.granted:
            self._granted_here[key] = self._granted_here.get(key, 0) + 1
        return place

    async def settle(self, key: str, *, counted: bool, window_seconds: int) -> None:
        # A place is given back where it was taken: one this process granted while Redis was down
        # is settled here even if Redis has come back. One Redis granted that can't be settled
        # there (Redis went down meanwhile) expires there on its own (RUNNING_TTL_SECONDS), and
        # its failure counts here.
        here = self._granted_here.pop(key, 0)
        if here:
            if here > 1:
                self._granted_here[key] = here - 1
            await self._fallback.settle(key, counted=counted, window_seconds=window_seconds)
            return
        try:
            await self._primary.settle(key, counted=counted, window_seconds=window_seconds)
        except CountersUnavailableError:
            await self._fallback.settle(key, counted=counted, window_seconds=window_seconds)
