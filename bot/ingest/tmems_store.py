"""Writing polled events in few, large transactions (storage.queries.insert_events does the inserting).

Why not simply insert_events per page: on SQLite a commit costs tens of milliseconds on a busy disk. Rows are
buffered (deduplicated by key) up to `flush_rows`. A poll that fills the buffer is a large one (a catch-up after
downtime, a busy gateway): its batches go to a writer process (bot.ingest.writer) that stores one while the
poller maps the next, on the other core. A poll that never fills it (the usual few minutes of traffic) is stored
in place, in one transaction with its cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from bot.ingest.writer import WriterProcess, engine_url, store_here
from bot.store import Store

#: Rows per transaction: big enough that commits are rare (25,000 rows a transaction cost half the system
#: time of 5,000 here), small enough to hold SQLite's write lock for a second or so, not for a whole window.
FLUSH_ROWS = 20000
#: Rows buffered at which a poll counts as large: the writer process starts then (a spawn takes a few tenths of
#: a second), so it is ready when the buffer is full.
START_WRITER_ROWS = FLUSH_ROWS // 4


class EventSink:
    """Buffers event rows (deduplicated by key) and stores them `flush_rows` at a time.

    Writes run in order, in place or (once a batch filled the buffer) in a writer process; after a failed write
    none of the later ones runs (a cursor must never move past rows that were not stored), and the failure is
    raised by the next `submit` or `flush`. A `then` given to `flush` runs in the transaction of the last rows;
    it must be picklable (a module-level function or a dataclass with __call__): it may run in the writer process.
    """

    def __init__(self, store: Store, flush_rows: int = FLUSH_ROWS) -> None:
        self.store = store
        self.flush_rows = flush_rows
        self.start_rows = max(1, min(START_WRITER_ROWS, flush_rows // 4))
        self.rows: dict[tuple[str, Any], dict[str, Any]] = {}
        self.label: str | None = None  # what the rows being added are (a stream): names a failed write
        self._writer: WriterProcess | None = None
        self._committed: list[Callable[[Connection], None]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows[(row["source_key"], row["time"])] = row

    def add_all(self, rows: list[dict[str, Any]]) -> None:
        buffered = self.rows
        for row in rows:
            buffered[(row["source_key"], row["time"])] = row

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.flush_rows

    def page_done(self) -> None:
        """After each page: a poll whose buffer reached `start_rows` is a large one, so the writer process starts
        (ready by the time the buffer is full); a full buffer is handed to it."""
        if len(self.rows) >= self.start_rows:
            self._start_writer()
        if self.full:
            self.submit()

    @property
    def in_process(self) -> bool:
        """Whether a writer process stores this sink's batches."""
        return self._writer is not None

    def submit(self) -> None:
        """Hand the buffered rows to the writer process (started on the first call), which stores them while
        the caller goes on. Raises an earlier write's failure as soon as it is known."""
        writer = self._start_writer()
        writer.submit(list(self.rows.values()), tag=(self.label, None))
        self.rows.clear()

    def _start_writer(self) -> WriterProcess:
        if self._writer is None:
            self._writer = WriterProcess(engine_url(self.store.engine))
        return self._writer

    def flush(self, then: Callable[[Connection], None] | None = None, *, wait: bool = True) -> int:
        """Store everything buffered, with `then` in the same transaction, and return how many rows were new
        among the writes known to have finished. With `wait` (the default) that is every write since the last
        waiting flush, and the first failure among them is raised; without it, a writer process stores the
        rows while the caller goes on (the count comes with the next waiting flush; a failure with the next
        submit or flush)."""
        rows = list(self.rows.values())
        self.rows.clear()
        if self._writer is not None:
            self._writer.submit(rows, then, tag=(self.label, then))
            return self._writer.drain() if wait else 0
        if not rows and then is None:
            return 0
        new = store_here(self.store.engine, rows, then)
        if then is not None:
            self._committed.append(then)
        return new

    @property
    def failed_label(self) -> str | None:
        """The label of the write whose failure the last `flush` raised."""
        if self._writer is not None and self._writer.failed_tag is not None:
            return self._writer.failed_tag[0]
        return self.label

    def take_committed(self) -> list[Callable[[Connection], None]]:
        """The `then` of every flush whose transaction committed, in order, since the last call."""
        done, self._committed = self._committed, []
        if self._writer is not None:
            done += [then for _label, then in self._writer.committed if then is not None]
            self._writer.committed = []
        return done

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._committed += [then for _label, then in self._writer.committed if then is not None]
            self._writer = None
