"""Per-key rate limit with the `limits` library: a sliding window per API key, 429 with Retry-After.

The storage defaults to this process's memory (with several replicas each counts on its own); point
RATE_LIMIT_STORAGE_URI at Redis (`async+redis://host:6379`) to share one count across replicas."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from app.problems import ApiProblem
from app.security import Principal


class KeyRateLimiter:
    def __init__(self, rate: str, storage_uri: str) -> None:
        self.item: RateLimitItem | None = parse(rate) if rate else None
        # Sliding window counter: O(1) per hit (a moving window keeps and scans every hit of the window).
        self.limiter = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))

    async def check(self, principal: Principal) -> None:
        if self.item is None:
            return
        key = str(principal.key_id)
        if await self.limiter.hit(self.item, key):
            return
        stats = await self.limiter.get_window_stats(self.item, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiProblem(
            429,
            "rate-limited",
            "Too many requests",
            f"This key may make {self.item} requests; retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
