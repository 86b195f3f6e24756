"""Diagnoses in worker processes: the web process's threads only acknowledge, post and wait.

A diagnosis is CPU work in Python (queries, ranking, Block Kit); run in the web process it competes with every
acknowledgement for the GIL, and under a burst of commands the acks queue behind it. In a process pool it runs
on the other cores, and the threads waiting for it hold no GIL. Each worker opens its own store and checker
from the settings (SQLite in WAL mode and PostgreSQL both serve several processes).
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from bot.answers import Answer, diagnosis_answer
from bot.config import Settings
from bot.targets import Target

log = logging.getLogger(__name__)

#: How long a caller waits for one diagnosis before giving up (the live checks have per-zone limits far below).
TIMEOUT_SECONDS = 60.0

_worker: dict[str, Any] = {}


def _start_worker(settings: Settings, live: bool) -> None:
    from bot.diagnosis.contacts import soa_lookup_from_settings
    from bot.diagnosis.live import checker_from_settings
    from bot.store import Store

    _worker.update(settings=settings, store=Store.open(settings),
                   checker=checker_from_settings(settings) if live else None,
                   soa=soa_lookup_from_settings(settings) if live else None)


def _diagnose(target: Target, since: datetime | None, live: bool) -> Answer:
    with _worker["store"].session() as session:
        return diagnosis_answer(session, target, settings=_worker["settings"], since=since,
                                checker=_worker["checker"] if live else None,
                                soa_lookup=_worker["soa"] if live else None)


def _ready() -> bool:
    return "store" in _worker


class DiagnosisPool:
    """`processes` workers started with spawn (never fork: the web process runs threads)."""

    def __init__(self, settings: Settings, *, processes: int, live: bool = True) -> None:
        if processes < 1:
            raise ValueError("a diagnosis pool needs at least one process")
        self.processes = processes
        self._pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(settings, live))

    def warm_up(self) -> None:
        """Start every worker now (imports, store, checker) instead of on the first commands."""
        for future in [self._pool.submit(_ready) for _ in range(self.processes * 2)]:
            future.result(timeout=TIMEOUT_SECONDS)

    def diagnose(self, target: Target, *, since: datetime | None = None, live: bool = True) -> Answer:
        return self._pool.submit(_diagnose, target, since, live).result(timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
