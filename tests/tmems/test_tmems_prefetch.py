"""The page prefetcher: order kept, errors delivered after the pages before them, early stop ends the thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.ingest.tmems import prefetch


def _pages(n: int, fail_at: int | None = None) -> Iterator[list[dict]]:
    for i in range(n):
        if i == fail_at:
            raise RuntimeError(f"page {i} failed")
        yield [{"n": i}]


def test_order_is_kept() -> None:
    assert [p[0]["n"] for p in prefetch(_pages(50))] == list(range(50))


def test_an_error_arrives_after_the_pages_before_it() -> None:
    seen = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        for page in prefetch(_pages(10, fail_at=3)):
            seen.append(page[0]["n"])
    assert seen == [0, 1, 2]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    before = {t.ident for t in threading.enumerate()}
    pages = prefetch(_pages(1000))
    assert next(pages) == [{"n": 0}]
    pages.close()  # what a `break` or an exception in the consumer does
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.name == "tmems-prefetch"]
    assert not any(t.is_alive() for t in leftover)
