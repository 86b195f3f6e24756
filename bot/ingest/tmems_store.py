"""Writing polled events in few, large transactions (storage.queries.insert_events does the inserting).

Why not simply insert_events per page: on SQLite a commit costs tens of milliseconds on a busy disk. Here rows are
buffered to `flush_rows` and written by a writer thread while the poller maps the next pages.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection

from bot.store import Store
from storage.queries import insert_events

#: Rows per transaction: big enough that commits are rare (25,000 rows a transaction cost half the system
#: time of 5,000 here), small enough to hold SQLite's write lock for a second or so, not for a whole window.
FLUSH_ROWS = 20000


class EventSink:
    """Buffers event rows (deduplicated by key) and writes them `flush_rows` at a time in a writer thread.

    The database drivers release the GIL while the database works, so the writer stores one batch while the
    poller maps the next: on two cores the insert and the mapping overlap instead of adding up. Writes run in
    order; after a failed write none of the later ones runs (a cursor must never move past rows that were not
    stored), and the failure is raised by the next `flush`.
    """

    def __init__(self, store: Store, flush_rows: int = FLUSH_ROWS, in_flight: int = 2) -> None:
        self.store = store
        self.flush_rows = flush_rows
        self.in_flight = in_flight
        self.rows: dict[tuple[str, Any], dict[str, Any]] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tmems-writer")
        self._pending: deque[Future[int]] = deque()
        self._failed = False
        self._done = 0  # new rows of writes already waited for

    def add(self, row: dict[str, Any]) -> None:
        self.rows[(row["source_key"], row["time"])] = row

    def add_all(self, rows: list[dict[str, Any]]) -> None:
        buffered = self.rows
        for row in rows:
            buffered[(row["source_key"], row["time"])] = row

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.flush_rows

    def submit(self, extra: Callable[[Connection], None] | None = None) -> None:
        """Hand the buffered rows to the writer (at most `in_flight` writes wait; beyond that, this waits)."""
        rows = list(self.rows.values())
        self.rows.clear()
        while len(self._pending) >= self.in_flight:
            self._done += self._pending.popleft().result()
        self._pending.append(self._writer.submit(self._write, rows, extra))

    def flush(self, extra: Callable[[Connection], None] | None = None) -> int:
        """Write everything buffered (running `extra` in the last transaction), wait for every write, and
        return how many rows were new since the last flush. Raises the first write's failure."""
        self.submit(extra)
        error: BaseException | None = None
        while self._pending:
            future = self._pending.popleft()
            try:
                self._done += future.result()
            except BaseException as exc:  # the first failure is raised once every write has ended
                error = error or exc
        new, self._done = self._done, 0
        if error is not None:
            self._failed = False  # the writes after it were skipped; a later flush may try again
            raise error
        return new

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def _write(self, rows: list[dict[str, Any]], extra: Callable[[Connection], None] | None) -> int:
        if self._failed:
            raise _Skipped("an earlier write of this poll failed")
        try:
            with self.store.engine.begin() as connection:
                new = insert_events(connection, rows)
                if extra is not None:
                    extra(connection)
        except BaseException:
            self._failed = True
            raise
        return new


class _Skipped(RuntimeError):
    """A write not attempted because an earlier one failed."""
