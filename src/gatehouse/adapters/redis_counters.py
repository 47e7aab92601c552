"""Fixed-window counters in Redis, shared by every worker and host."""

import logging

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from gatehouse.application.errors import CountersUnavailableError
from gatehouse.application.ports import Counters, WindowCount

log = logging.getLogger("gatehouse.redis")

# One round trip, atomic: the first increment of a key starts its window.
INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""
PEEK = """
local count = redis.call('GET', KEYS[1])
if not count then return {0, tonumber(ARGV[1])} end
return {tonumber(count), redis.call('TTL', KEYS[1])}
"""

# Atomic: never below zero, and the window keeps its end (DECRBY keeps the key's TTL).
RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count <= 0 then return 0 end
local taken = math.min(count, tonumber(ARGV[1]))
return redis.call('DECRBY', KEYS[1], taken)
"""


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
        self._peek = self._redis.register_script(PEEK)
        self._release = self._redis.register_script(RELEASE)

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        count, ttl = await self._call(self._increment, key, window_seconds)
        return WindowCount(int(count), max(1, int(ttl)))

    async def peek(self, key: str, window_seconds: int) -> WindowCount:
        count, ttl = await self._call(self._peek, key, window_seconds)
        return WindowCount(int(count), max(1, int(ttl)))

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except (RedisError, OSError) as exc:
            self._went_down(exc)
            raise CountersUnavailableError("Redis is unreachable") from exc
        self._came_back()

    async def release(self, key: str, count: int) -> None:
        try:
            await self._release(keys=[self._prefix + key], args=[count])
        except (RedisError, OSError) as exc:
            self._went_down(exc)
            raise CountersUnavailableError("Redis is unreachable") from exc
        self._came_back()

    async def ping(self) -> bool:
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

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        try:
            return await self._primary.increment(key, window_seconds)
        except CountersUnavailableError:
            return await self._fallback.increment(key, window_seconds)

    async def peek(self, key: str, window_seconds: int) -> WindowCount:
        try:
            return await self._primary.peek(key, window_seconds)
        except CountersUnavailableError:
            return await self._fallback.peek(key, window_seconds)

    async def reset(self, key: str) -> None:
        await self._fallback.reset(key)
        try:
            await self._primary.reset(key)
        except CountersUnavailableError:
            return

    async def release(self, key: str, count: int) -> None:
        try:
            await self._primary.release(key, count)
        except CountersUnavailableError:
            await self._fallback.release(key, count)
