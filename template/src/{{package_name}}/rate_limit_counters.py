"""Per-client-IP hit counters for the rate limits, in memory or Redis.

Built on `limits` (the library slowapi wraps); the rules and the FastAPI dependency
that applies them are in `api/rate_limits.py`. The limiter is created by `create_app`
from settings rather than at import time.
Counters live in `RATE_LIMIT_STORAGE_URI`: `memory://` for one process, or
`redis://...` so that every worker shares them. Moving windows: a burst at a window
edge cannot double the limit.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


def parse_limit(text: str) -> RateLimitItem:
    """`10/minute` and friends; `ValueError` for anything else."""
    return parse(text)


class RateLimiter:
    """Counts hits per (rule, client IP) and says how long to wait when over the limit."""

    def __init__(self, storage_uri: str, *, key_prefix: str) -> None:
        self._storage: Storage = (
            MemoryStorage()
            if storage_uri.startswith("memory://")
            else RedisStorage(f"async+{storage_uri}", key_prefix=key_prefix)
        )
        self._strategy = MovingWindowRateLimiter(self._storage)

    async def hit(self, rule: str, limit: RateLimitItem, client: str) -> int | None:
        """Count one hit; `None` if allowed, else the seconds until the next is allowed."""
        if await self._strategy.hit(limit, rule, client):
            return None
        stats = await self._strategy.get_window_stats(limit, rule, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def exhausted(self, rule: str, limit: RateLimitItem, client: str) -> int | None:
        """Whether `client` is over the limit, counting nothing: `None`, or the seconds to wait.

        For counters of failures, hit only after a failure: a burst checked at once can
        overshoot by its width, so such a rule sits behind a rule hit before the work.
        """
        if await self._strategy.test(limit, rule, client):
            return None
        stats = await self._strategy.get_window_stats(limit, rule, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def close(self) -> None:
        """Release Redis connections at shutdown.

        `limits` has no public close; its Redis storage keeps the client on `bridge`.
        """
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()
