"""The in-process window counters behind `FEEDBACKVAULT_RATE_LIMIT_STORAGE=memory://`."""

from __future__ import annotations

import pytest
from limits import RateLimitItemPerMinute
from limits.strategies import FixedWindowRateLimiter

from feedbackvault.api.limit_counters import PRUNE_EVERY_S, WindowCounters
from feedbackvault.api.limits import storage_uri


class Clock:
    """Seconds since the epoch, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counters(clock: Clock) -> WindowCounters:
    storage = WindowCounters()
    storage.clock = clock
    return storage


def test_memory_setting_selects_the_window_counters_and_redis_stays_redis() -> None:
    assert storage_uri("memory://") == "feedbackvault-memory://"
    assert storage_uri("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def test_hits_count_up_within_one_window(counters: WindowCounters) -> None:
    assert [counters.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.get("k") == 3


def test_a_window_past_its_end_counts_as_empty_and_a_new_one_opens(
    counters: WindowCounters, clock: Clock
) -> None:
    counters.incr("k", 60)
    clock.now += 59.9
    assert counters.get("k") == 1
    clock.now += 0.1
    assert counters.get("k") == 0
    assert counters.incr("k", 60) == 1
    assert counters.get_expiry("k") == pytest.approx(clock.now + 60)


def test_keys_count_apart(counters: WindowCounters) -> None:
    counters.incr("a", 60, amount=2)
    counters.incr("b", 60)
    assert (counters.get("a"), counters.get("b"), counters.get("c")) == (2, 1, 0)


def test_ended_windows_are_dropped_from_memory(counters: WindowCounters, clock: Clock) -> None:
    for key in range(100):
        counters.incr(f"address:{key}", 10)
    clock.now += PRUNE_EVERY_S
    counters.incr("fresh", 10)
    assert counters.reset() == 1  # only the fresh window was left to drop


def test_clear_forgets_one_key(counters: WindowCounters) -> None:
    counters.incr("a", 60)
    counters.incr("b", 60)
    counters.clear("a")
    assert (counters.get("a"), counters.get("b")) == (0, 1)


def test_the_limits_fixed_window_strategy_refuses_past_the_limit(
    counters: WindowCounters, clock: Clock
) -> None:
    limiter = FixedWindowRateLimiter(counters)
    three = RateLimitItemPerMinute(3)
    assert [limiter.hit(three, "token") for _ in range(4)] == [True, True, True, False]
    clock.now += 60
    assert limiter.hit(three, "token")
