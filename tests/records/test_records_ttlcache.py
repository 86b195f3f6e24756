"""The small TTL cache used for approver-group lookups."""

from __future__ import annotations

import threading
import time

import pytest

from bot.ttlcache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_values_are_fetched_again_after_the_ttl():
    clock, calls = Clock(), []

    def fetch(key: str) -> set[str]:
        calls.append(key)
        return {f"{key}-{len(calls)}"}

    cache = TTLCache(fetch, ttl=60, clock=clock)
    assert cache("S1") == {"S1-1"}
    clock.now += 59
    assert cache("S1") == {"S1-1"} and calls == ["S1"]
    clock.now += 2
    assert cache.get("S1") == {"S1-2"} and calls == ["S1", "S1"]
    cache.invalidate("S1")
    assert cache("S1") == {"S1-3"}
    assert cache("S2") == {"S2-4"}


def test_a_failed_fetch_is_not_cached():
    attempts = []

    def fetch(key: str) -> str:
        attempts.append(key)
        if len(attempts) == 1:
            raise RuntimeError("ratelimited")
        return "ok"

    cache = TTLCache(fetch, ttl=60)
    with pytest.raises(RuntimeError):
        cache("S1")
    assert cache("S1") == "ok" and len(attempts) == 2


def test_concurrent_callers_share_one_fetch():
    calls = []
    gate = threading.Event()

    def fetch(key: str) -> str:
        calls.append(key)
        gate.wait(5)
        return "members"

    cache = TTLCache(fetch, ttl=60)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache("S1"))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(10)
    assert results == ["members"] * 8 and calls == ["S1"]


def test_ttl_must_be_positive():
    with pytest.raises(ValueError):
        TTLCache(lambda k: k, ttl=0)
