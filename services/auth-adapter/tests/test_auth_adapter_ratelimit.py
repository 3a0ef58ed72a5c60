"""Rate limits that spraying cannot reset: buckets leave only once full, memory stays bounded."""

from __future__ import annotations

import tracemalloc

from auth_adapter.ratelimit import RateLimiter
from auth_adapter_fixtures import STATIC, adapter
from gateway_config import RateLimit

HOURLY = RateLimit("1h", 5)
PER_SECOND = RateLimit("1s", 10)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_limited_client_stays_limited_whatever_other_addresses_do() -> None:
    clock = Clock()
    limiter = RateLimiter(max_clients=100, clock=clock)
    assert [limiter.allow("S/m", "victim", HOURLY) for _ in range(6)] == [True] * 5 + [False]
    # The original evicted the oldest-inserted buckets, exhausted ones included: 5 fresh tokens.
    for n in range(10_000):
        limiter.allow("S/m", f"10.0.{n // 256}.{n % 256}", HOURLY)
        assert len(limiter) <= 100
    assert not limiter.allow("S/m", "victim", HOURLY)
    clock.now += 3600 / 5  # one token back, as the window gives it
    assert limiter.allow("S/m", "victim", HOURLY) and not limiter.allow("S/m", "victim", HOURLY)


def test_sprayed_addresses_without_a_place_share_one_budget() -> None:
    clock = Clock()
    limiter = RateLimiter(max_clients=10, clock=clock)
    allowed = sum(limiter.allow("S/m", f"sprayer-{n}", HOURLY) for n in range(1000))
    # 10 buckets of 5, then one shared bucket of 5 for everyone else
    assert allowed == 10 * 1 + 5 and len(limiter) == 10


def test_full_buckets_are_forgotten_and_their_places_reused() -> None:
    clock = Clock()
    limiter = RateLimiter(max_clients=10, clock=clock)
    for n in range(10):
        assert limiter.allow("S/m", f"old-{n}", PER_SECOND)
    clock.now += 1.0  # every old bucket is full again
    assert all(limiter.allow("S/m", f"new-{n}", PER_SECOND) for n in range(10))
    assert len(limiter) == 10
    # a new client with a place of its own has its full count, not the shared overflow
    assert sum(limiter.allow("S/m", "new-0", PER_SECOND) for _ in range(20)) == 9


def test_a_partly_used_bucket_is_kept_until_it_refilled() -> None:
    clock = Clock()
    limiter = RateLimiter(max_clients=2, clock=clock)
    assert [limiter.allow("S/m", "a", HOURLY) for _ in range(5)] == [True] * 5
    assert limiter.allow("S/m", "b", HOURLY)
    clock.now += 3599  # a refilled 4.99 tokens: not full yet, so it keeps its place
    assert limiter.allow("S/m", "c", HOURLY)  # the overflow
    assert len(limiter) == 2
    clock.now += 1
    assert limiter.allow("S/m", "d", HOURLY) and len(limiter) == 2


def test_memory_stays_bounded_with_the_stated_bound() -> None:
    limiter = RateLimiter(max_clients=5_000)
    tracemalloc.start()
    try:
        base = tracemalloc.take_snapshot()
        for n in range(15_000):
            limiter.allow("FakeService/Handle", f"2001:db8::{n // 65536:x}:{n % 65536:x}", HOURLY)
        used = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    finally:
        tracemalloc.stop()
    assert len(limiter) == 5_000
    per_bucket = used / 5_000
    assert per_bucket < 450, per_bucket  # the README states about 350 bytes each with its key


def test_spraying_through_grpc_does_not_reset_a_limited_client() -> None:
    token = {"cookie": f"token={STATIC[0]}"}
    with adapter({"VALID_TOKENS": STATIC[0]}, limiter=RateLimiter(max_clients=50)) as a:
        victim = {**token, "x-forwarded-for": "203.0.113.77"}
        codes = [a.check("/api/Shop/Limited", victim).HasField("ok_response") for _ in range(3)]
        assert codes == [True, True, False]
        for n in range(300):  # six times the table: the original had forgotten the victim by now
            a.check("/api/Shop/Limited", {**token, "x-forwarded-for": f"198.51.100.{n % 250}, 10.9.{n}.1"})
        response = a.check("/api/Shop/Limited", victim)
        assert response.denied_response.status.code == 429
