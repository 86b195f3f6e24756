"""A bounded cache of zone answers that expire with the answer's TTL.

Block-list operators rate-limit (Spamhaus answers 127.255.255.255 to excessive queries), and the diagnosis, the
digest and the CLI ask about the same IPs again and again within minutes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class AnswerCache(Generic[V]):
    """Least-recently-used entries go first once `max_entries` is reached; an entry lives for its own TTL."""

    def __init__(self, max_entries: int = 10_000, *, max_ttl: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_ttl = max_ttl
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()  # the sync check() may run from several worker threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self.clock():
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, value: V, ttl: float) -> None:
        ttl = min(ttl, self.max_ttl)
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self.clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop_where(self, predicate: Callable[[Hashable], bool]) -> int:
        """Forget the entries whose key matches (a zone whose health changed); returns how many."""
        with self._lock:
            doomed = [key for key in self._entries if predicate(key)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
