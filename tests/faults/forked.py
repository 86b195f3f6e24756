"""Run one function in N forked processes at once, each opening its own engine after the fork.

Forking after the imports keeps 50 processes cheap on a 2-core box, and every child is a real OS process
with its own connections: the database sees 50 independent clients, as with 50 bot instances or cron jobs.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

_CTX = multiprocessing.get_context("fork")


def _child(work: Callable[[int], Any], index: int, barrier: Any, out: Any) -> None:
    try:
        barrier.wait(timeout=120)
        out.put((index, "ok", work(index)))
    except BaseException as exc:  # sent to the parent whole, which fails the test with it
        out.put((index, "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def run_in_processes(n: int, work: Callable[[int], Any], timeout: float = 240) -> dict[int, tuple[str, Any]]:
    """{index: ("ok", result) or ("error", text)} of work(index) run in n processes released together.

    `work` must open its own engine (the parent's connections must not cross the fork) and return
    something picklable.
    """
    barrier = _CTX.Barrier(n)
    out = _CTX.Queue()
    procs = [_CTX.Process(target=_child, args=(work, i, barrier, out)) for i in range(n)]
    for proc in procs:
        proc.start()
    results: dict[int, tuple[str, Any]] = {}
    for _ in range(n):
        index, status, value = out.get(timeout=timeout)
        results[index] = (status, value)
    for proc in procs:
        proc.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return results
