"""A small thread-safe cache whose entries expire: for lookups through the Web API (approver group members).

Slack's usergroups.users.list is rate limited (tier 2), and a click needs an answer at once; a minute-old
membership list is good enough to authorize an approval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """`cache(key)` returns fetch(key), fetched again once `ttl` seconds have passed.

    A failing fetch raises and caches nothing, so the next call tries again. Concurrent callers of one
    missing key share a single fetch.
    """

    def __init__(self, fetch: Callable[[K], V], *, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._values: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[K, threading.Lock] = {}

    def get(self, key: K) -> V:
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._values.get(key)
                if hit is not None and hit[0] > self._clock():
                    return hit[1]
            value = self._fetch(key)
            with self._lock:
                self._values[key] = (self._clock() + self._ttl, value)
            return value

    __call__ = get

    def invalidate(self, key: K | None = None) -> None:
        """Forget one key, or everything."""
        with self._lock:
            if key is None:
                self._values.clear()
            else:
                self._values.pop(key, None)
