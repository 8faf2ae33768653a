"""The API's rate limit: a token bucket per API token, in this process (replicas each keep their own, so
a token may make up to the limit at each replica). A bucket holds `burst` requests and refills at `rate`
a second; a request that finds it empty is refused with how long until one is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_BUCKETS = 10_000  # tokens remembered at once; the idlest are forgotten first (a full bucket is no loss)


@dataclass
class _Bucket:
    level: float
    at: float


@dataclass
class RateLimit:
    """Token buckets by name: `take(name)` spends one request from that name's bucket."""

    rate: float  # requests a second, refilled continuously
    burst: int  # the most requests at once
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, name: str) -> float | None:
        """Spend one request of `name`'s bucket: None when there was one, else the seconds until there is."""
        now = self.clock()
        bucket = self._buckets.pop(name, None)  # popped and put back: the dict stays in least-recent order
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        level = min(float(self.burst), bucket.level + (now - bucket.at) * self.rate)
        wait = None if level >= 1.0 else (1.0 - level) / self.rate
        self._buckets[name] = _Bucket(level - 1.0 if wait is None else level, now)
        if len(self._buckets) > MAX_BUCKETS:
            del self._buckets[next(iter(self._buckets))]
        return wait
