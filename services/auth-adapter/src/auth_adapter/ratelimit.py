"""Per-client token buckets per policy: `count` requests per `period`, refilled continuously.

A bucket leaves the table only once it has refilled completely: a forgotten client is a client with a full
bucket, so forgetting hands nothing back. Buckets are kept per period in least-recently-used order; when
the table is full, a few of the oldest are looked at (at most SWEEP per period and request): full ones go,
the others move to the back, so the work per request stays bounded and every bucket is looked at in turn.

Memory is bounded by `max_clients` buckets (each about 350 bytes with its key: 35 MB for the default
100,000) plus one shared overflow bucket per policy. When the table is full of buckets that are still
refilling (more clients than that within one period, e.g. an address spray), a client without a bucket
draws from its policy's overflow bucket, shared by every such client, until buckets refill and free
places: sprayed addresses only share one budget, and no limited client is reset.

The lock guards dictionary updates only; nothing waits or sleeps while holding it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from gateway_config import RateLimit

SWEEP = 16


class RateLimiter:
    def __init__(self, max_clients: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        # Per period (seconds): (policy key, client) -> [tokens, last update, count], oldest update first.
        self._tables: dict[int, OrderedDict[tuple[str, str], list[float]]] = {}
        self._overflow: dict[tuple[str, int], list[float]] = {}
        self._size = 0
        self._lock = threading.Lock()
        self._max = max_clients
        self._clock = clock

    def allow(self, key: str, client: str, limit: RateLimit) -> bool:
        """Take one token from the client's bucket; False when it is empty."""
        now = self._clock()
        period = limit.period_seconds
        with self._lock:
            table = self._tables.setdefault(period, OrderedDict())
            bucket = table.get((key, client))
            if bucket is None:
                if self._size >= self._max:
                    self._free(now)
                if self._size >= self._max:
                    shared = self._overflow.setdefault((key, period), [float(limit.count), now, limit.count])
                    return _take(shared, now, limit)
                bucket = table[(key, client)] = [float(limit.count), now, float(limit.count)]
                self._size += 1
            else:
                table.move_to_end((key, client))
            return _take(bucket, now, limit)

    def reset(self, key: str, client: str) -> None:
        """A client that proved itself (reCAPTCHA v2) starts with a full bucket; a shared overflow bucket
        is never refilled for one client."""
        with self._lock:
            for table in self._tables.values():
                if table.pop((key, client), None) is not None:
                    self._size -= 1

    def __len__(self) -> int:
        return self._size

    def _free(self, now: float) -> None:
        """Drop buckets that have refilled completely: up to SWEEP of the oldest in each period's table."""
        for period, table in self._tables.items():
            for _ in range(min(SWEEP, len(table))):
                place, (tokens, last, count) = next(iter(table.items()))
                if tokens + (now - last) * count / period >= count:
                    del table[place]
                    self._size -= 1
                else:
                    table.move_to_end(place)  # still refilling: kept, looked at again later


def _take(bucket: list[float], now: float, limit: RateLimit) -> bool:
    count = float(limit.count)
    bucket[0] = min(count, bucket[0] + (now - bucket[1]) * count / limit.period_seconds)
    bucket[1] = now
    bucket[2] = count
    if bucket[0] >= 1.0:
        bucket[0] -= 1.0
        return True
    return False
