"""Diagnoses in worker processes: the web process only verifies, acknowledges and hands the work off.

A diagnosis is CPU work in Python (queries, ranking, Block Kit, JSON for the Web API); run in the web process
it competes with every acknowledgement for the GIL and the CPU, and under load the acks queue behind it. In a
process pool it leaves the acknowledging process, and the threads waiting for it hold no GIL. A /bounce answer
is diagnosed, rendered *and posted* in the worker (`run`, with a job from handlers/), so only a few bytes come
back. Workers run at a lower CPU priority (`nice`, default +10): when the web process has an acknowledgement to
send it gets the CPU first, and the workers use whatever is left. Each worker opens its own store and checker
from the settings (SQLite in WAL mode and PostgreSQL both serve several processes).

A worker that dies (OOM killer, segfault), or whose job runs past the timeout, is replaced so the next command
is served; the caller whose work was lost gets BrokenProcessPool or TimeoutError (the user is told it failed).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
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


class _Worker:
    """One worker process and the parent's end of its pipe; `ready` once its start-up message was read."""

    def __init__(self, context: Any, args: tuple[Any, ...]) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, *args), name="bouncebot-diagnosis", daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def stop(self, *, now: bool = False) -> None:
        if not now:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


def _serve(conn: Any, settings: Settings, live: bool, nice: int) -> None:
    """A worker process: set up, say so, then run (fn, args) jobs from the pipe until None or EOF."""
    _start_worker(settings, live, nice)
    conn.send(os.getpid())
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the web process is gone (or stopped this worker)
            return
        if job is None:
            return
        fn, args = job
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception as exc:  # a result or exception that does not pickle: its text does
            conn.send(("error", RuntimeError(f"{type(exc).__name__} sending the result: {exc}")))


class DiagnosisPool:
    """`processes` workers started with spawn (never fork: the web process runs threads), at `nice`.

    Each worker has its own pipe; the thread that runs a job writes it there and reads the answer itself.
    (concurrent.futures' ProcessPoolExecutor moves every job and result through two threads of its own in
    the web process, ~0.4 ms of CPU per job competing with the acknowledgements, and cannot stop a job.)
    A job past its timeout gets its worker killed and replaced; a worker that died is replaced."""

    def __init__(self, settings: Settings, *, processes: int, live: bool = True, nice: int = DEFAULT_NICE,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        if processes < 1:
            raise ValueError("a diagnosis pool needs at least one process")
        self.processes = processes
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")
        self._args = (settings, live, nice)
        self._lock = threading.Lock()
        self._closed = False
        self._workers = [_Worker(self._context, self._args) for _ in range(processes)]
        self._free: list[_Worker] = list(self._workers)
        # Callers waiting for a free worker, served in order (a plain queue wakes them in any order, and under
        # load some waited seconds while others went through at once).
        self._waiting: collections.deque[tuple[threading.Event, list[_Worker]]] = collections.deque()

    def warm_up(self) -> None:
        """Wait until every worker is up (imports, store, checker), instead of on the first commands."""
        taken = [self._acquire(STARTUP_SECONDS) for _ in range(self.processes)]
        try:
            for worker in taken:
                self._wait_ready(worker, time.monotonic() + STARTUP_SECONDS)
        finally:
            for worker in taken:
                self._release(worker)

    def _wait_ready(self, worker: _Worker, deadline: float) -> None:
        if worker.ready:
            return
        if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
            raise TimeoutError("a diagnosis worker did not start in time")
        worker.conn.recv()  # its pid: it is set up
        worker.ready = True

    def _acquire(self, timeout: float) -> _Worker:
        """A free worker, first come first served; TimeoutError if none is free within `timeout`."""
        with self._lock:
            if self._free and not self._waiting:
                return self._free.pop()
            turn: tuple[threading.Event, list[_Worker]] = (threading.Event(), [])
            self._waiting.append(turn)
        if not turn[0].wait(timeout):
            with self._lock:
                if not turn[1]:
                    self._waiting.remove(turn)
                    raise TimeoutError("no diagnosis worker was free in time")
        return turn[1][0]

    def _release(self, worker: _Worker) -> None:
        """To the longest-waiting caller, else back to the free workers."""
        with self._lock:
            if self._waiting:
                event, slot = self._waiting.popleft()
                slot.append(worker)
                event.set()
            else:
                self._free.append(worker)

    def _replace(self, worker: _Worker, why: str) -> None:
        log.error("diagnosis worker %s %s: starting another", worker.process.pid, why)
        worker.stop(now=True)
        fresh = _Worker(self._context, self._args)  # started outside the lock: a spawn takes a while
        with self._lock:
            closed = self._closed
            if not closed:
                self._workers[self._workers.index(worker)] = fresh
        if closed:
            fresh.stop(now=True)
            return
        self._release(fresh)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in a worker (a module-level function: it is pickled by name); its result or its exception.

        TimeoutError after `timeout` seconds (waiting for a free worker included; a job that is running by
        then has its worker killed and replaced); BrokenProcessPool when the worker died under it."""
        deadline = time.monotonic() + self.timeout
        worker = self._acquire(self.timeout)
        try:
            self._wait_ready(worker, max(deadline, time.monotonic() + STARTUP_SECONDS))
        except TimeoutError:  # still starting (a replacement, or a slow start): it stays in the pool
            self._release(worker)
            raise
        except (EOFError, OSError) as exc:
            self._replace(worker, "died starting")
            raise BrokenProcessPool(f"a diagnosis worker died starting ({type(exc).__name__})") from None
        try:
            worker.conn.send((fn, args))
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self._replace(worker, "took too long")
                raise TimeoutError(f"the job took longer than {self.timeout:g} s")
            kind, value = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._replace(worker, "died")
            raise BrokenProcessPool(f"a diagnosis worker died ({type(exc).__name__})") from None
        except TimeoutError:
            raise
        except BaseException:
            self._replace(worker, "was interrupted")
            raise
        self._release(worker)
        if kind == "error":
            raise value
        return value

    def diagnose(self, target: Target, *, since: datetime | None = None, live: bool = True) -> Answer:
        return self.run(diagnose_here, target, since, live)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._workers if worker.process.pid is not None]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        for worker in workers:
            worker.stop()
