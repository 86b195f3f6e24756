"""Diagnoses in worker processes: the web process only verifies, acknowledges and hands the work off.

A diagnosis is CPU work in Python (queries, ranking, Block Kit, JSON for the Web API); run in the web process
it competes with every acknowledgement for the GIL and the CPU, and under load the acks queue behind it. In a
process pool it leaves the acknowledging process, and the threads waiting for it hold no GIL. A /bounce answer
is diagnosed, rendered *and posted* in the worker (`run`, with a job from handlers/), so only a few bytes come
back. Workers run at a lower CPU priority (`nice`, default +10): when the web process has an acknowledgement to
send it gets the CPU first, and the workers use whatever is left. Each worker opens its own store and checker
from the settings (SQLite in WAL mode and PostgreSQL both serve several processes).

A worker that dies (OOM killer, segfault) breaks a ProcessPoolExecutor for good; the pool replaces it so the
next command is served, and the callers whose work was lost get the exception (the user is told it failed).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.answers import Answer, diagnosis_answer
from bot.config import Settings
from bot.targets import Target

log = logging.getLogger(__name__)

#: How long a caller waits for one diagnosis before giving up (the live checks have per-zone limits far below).
TIMEOUT_SECONDS = 60.0
#: How long starting the workers may take (imports, opening the store) before `warm_up` gives up.
STARTUP_SECONDS = 60.0
#: Niceness added to the workers: the acknowledging process (nice 0) wins the CPU whenever it has work.
DEFAULT_NICE = 10

T = TypeVar("T")


@dataclass
class Worker:
    """What a job finds in its worker process: the settings, an open store, the live checks (None when off)
    and `cache` for what a job builds once per process (e.g. its Web API client)."""

    settings: Settings
    store: Any
    checker: Any = None
    soa: Any = None
    live: bool = True
    cache: dict[str, Any] = field(default_factory=dict)


_worker: Worker | None = None


def _start_worker(settings: Settings, live: bool, nice: int) -> None:
    global _worker
    if nice:
        try:
            os.nice(nice)
        except OSError as exc:  # not permitted (a negative value without the capability): run at the default
            log.warning("diagnosis worker: nice(%d) refused: %s", nice, exc)
    from bot.diagnosis.contacts import soa_lookup_from_settings
    from bot.diagnosis.live import checker_from_settings
    from bot.store import Store

    _worker = Worker(settings=settings, store=Store.open(settings), live=live,
                     checker=checker_from_settings(settings) if live else None,
                     soa=soa_lookup_from_settings(settings) if live else None)


def current() -> Worker:
    """The state of the worker process this job runs in (RuntimeError outside a pool worker)."""
    if _worker is None:
        raise RuntimeError("not in a diagnosis worker process")
    return _worker


def diagnose_here(target: Target, since: datetime | None = None, live: bool = True) -> Answer:
    """The diagnosis answer, in this worker process (live checks only if the pool has them and `live`)."""
    worker = current()
    live = live and worker.live
    with worker.store.session() as session:
        return diagnosis_answer(session, target, settings=worker.settings, since=since,
                                checker=worker.checker if live else None,
                                soa_lookup=worker.soa if live else None)


def _ready() -> int:
    current()
    return os.getpid()


def _niceness() -> int:
    return os.nice(0)


class DiagnosisPool:
    """`processes` workers started with spawn (never fork: the web process runs threads), at `nice`."""

    def __init__(self, settings: Settings, *, processes: int, live: bool = True, nice: int = DEFAULT_NICE,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        if processes < 1:
            raise ValueError("a diagnosis pool needs at least one process")
        self.processes = processes
        self.timeout = timeout
        self._args = (settings, live, nice)
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=self._args)

    def warm_up(self) -> None:
        """Start every worker now (imports, store, checker) instead of on the first commands."""
        for _, future in [self._submit(_ready) for _ in range(self.processes * 2)]:
            future.result(timeout=STARTUP_SECONDS)

    def _submit(self, fn: Callable[..., T], *args: Any) -> tuple[ProcessPoolExecutor, Future[T]]:
        with self._lock:
            pool = self._pool
        try:
            return pool, pool.submit(fn, *args)
        except BrokenProcessPool:  # broken before we got here: replace it and submit once more
            pool = self._replace(pool)
            return pool, pool.submit(fn, *args)

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A fresh pool instead of `broken` (once, however many callers saw it break)."""
        with self._lock:
            if self._pool is broken:
                log.error("a diagnosis worker died: starting a new pool of %d", self.processes)
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            return self._pool

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in a worker (a module-level function: it is pickled by name); its result or its exception.

        TimeoutError after `timeout` seconds (the job is cancelled if it has not started); BrokenProcessPool
        when the worker died under it (the pool is replaced for the next caller)."""
        pool, future = self._submit(fn, *args)
        try:
            return future.result(timeout=self.timeout)
        except TimeoutError:
            future.cancel()
            raise
        except BrokenProcessPool:
            self._replace(pool)
            raise

    def diagnose(self, target: Target, *, since: datetime | None = None, live: bool = True) -> Answer:
        return self.run(diagnose_here, target, since, live)

    def worker_pids(self) -> list[int]:
        with self._lock:
            processes = getattr(self._pool, "_processes", None) or {}
            return list(processes)

    def close(self) -> None:
        with self._lock:
            pool = self._pool
        pool.shutdown(wait=True, cancel_futures=True)
