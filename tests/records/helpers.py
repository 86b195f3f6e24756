"""Shared by the records tests: settings for a test, and running a function in many threads at once."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from bot.config import Settings
from bot.store import Store

T = TypeVar("T")


def settings(**overrides: Any) -> Settings:
    return dataclasses.replace(Settings(), **overrides)


def run_concurrently(store: Store, n: int, work: Callable[[Any, int], T]) -> list[T]:
    """Run work(session, i) in n threads, each with its own session, released together by a barrier."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def runner(i: int) -> None:
        try:
            with store.session() as session:
                barrier.wait(timeout=60)
                results[i] = work(session, i)
        except BaseException as exc:  # reported below, with the thread's exception
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results
