"""Per-client token buckets per API method: `count` requests per period, refilled continuously.

The lock guards a dictionary update only; nothing waits or sleeps while holding it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gateway_config import RateLimit


class RateLimiter:
    def __init__(self, max_clients: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: dict[tuple[str, str], list[float]] = {}  # (key, client) -> [tokens, last update]
        self._lock = threading.Lock()
        self._max = max_clients
        self._clock = clock

    def allow(self, key: str, client: str, limit: RateLimit) -> bool:
        """Take one token from the client's bucket; False when it is empty."""
        now = self._clock()
        rate = limit.count / limit.period_seconds
        with self._lock:
            bucket = self._buckets.get((key, client))
            if bucket is None:
                if len(self._buckets) >= self._max:
                    self._evict(now)
                bucket = self._buckets[(key, client)] = [float(limit.count), now]
            else:
                bucket[0] = min(float(limit.count), bucket[0] + (now - bucket[1]) * rate)
                bucket[1] = now
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return True
            return False

    def reset(self, key: str, client: str) -> None:
        """A client that proved itself (reCAPTCHA) starts with a full bucket."""
        with self._lock:
            self._buckets.pop((key, client), None)

    def __len__(self) -> int:
        return len(self._buckets)

    def _evict(self, now: float) -> None:
        # Oldest updates first (dict order is insertion order; updated buckets keep their place, so this
        # also drops busy ones eventually): a forgotten client is only a client with a full bucket.
        target = self._max * 9 // 10
        for key in list(self._buckets)[: len(self._buckets) - target]:
            del self._buckets[key]
