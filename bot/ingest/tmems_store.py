"""Writing polled events in few, large transactions, with a lean insert on SQLite.

Why not simply storage.queries.insert_events per page: on SQLite a commit costs tens of milliseconds on a busy
disk, and SQLAlchemy's executemany-with-RETURNING spends more time per row in Python than SQLite spends
inserting it. Here rows are buffered to `flush_rows` and, on SQLite, sent through the same INSERT ... ON
CONFLICT (source_key, time) DO NOTHING that insert_events compiles, executed by the driver's executemany, with
the columns' own bind processors (so times are stored exactly as the ORM stores them); the new rows are
counted from the connection's change counter. PostgreSQL goes through insert_events (it creates the day
partitions the rows need).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from bot.store import Store
from storage.models import Event
from storage.queries import insert_events

#: Rows per transaction: big enough that commits are rare (25,000 rows a transaction cost half the system
#: time of 5,000 here), small enough to hold SQLite's write lock for a second or so, not for a whole window.
FLUSH_ROWS = 20000
#: SQLite page cache of the writing connection (KiB, as PRAGMA cache_size wants it negative): the event table's
#: random-keyed indexes (source key, message-id, mail ID) outgrow the 2 MiB default within ~20,000 rows, and
#: every insert then reads pages back; 64 MiB made a 100,000-record poll ~30% faster here.
SQLITE_CACHE_KIB = 65536


class _SqliteInsert:
    """The compiled statement, its column order and the bind processors, built once per dialect."""

    def __init__(self, connection: Connection, columns: Sequence[str]) -> None:
        stmt = sqlite.insert(Event).on_conflict_do_nothing(index_elements=["source_key", "time"])
        compiled = stmt.compile(dialect=connection.dialect, column_keys=list(columns))
        self.sql = str(compiled)
        self.order: tuple[str, ...] = tuple(compiled.positiontup or ())
        table = Event.__table__
        processors = [table.c[name].type.bind_processor(connection.dialect) for name in self.order]
        self.convert: list[tuple[int, Callable[[Any], Any]]] = [(i, p) for i, p in enumerate(processors) if p]
        self.columns = frozenset(columns)

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        order, convert = self.order, self.convert
        out = []
        for row in rows:
            values = [row[name] for name in order]
            for index, process in convert:
                values[index] = process(values[index])
            out.append(values)
        return out


def insert_rows(connection: Connection, rows: Sequence[Mapping[str, Any]],
                cache: dict[str, _SqliteInsert] | None = None) -> int:
    """Insert rows (all with the same keys) skipping stored (source_key, time); returns how many were new."""
    if not rows:
        return 0
    if connection.dialect.name != "sqlite":
        return insert_events(connection, rows)
    cache = {} if cache is None else cache
    statement = cache.get("sqlite")
    if statement is None or statement.columns != frozenset(rows[0]):
        statement = cache["sqlite"] = _SqliteInsert(connection, list(rows[0]))
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    if not connection.connection.info.get("tmems_cache"):  # once per pooled connection
        dbapi.execute(f"PRAGMA cache_size=-{int(SQLITE_CACHE_KIB)}")
        connection.connection.info["tmems_cache"] = True
    before = dbapi.total_changes
    cursor = dbapi.cursor()
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        cursor.executemany(statement.sql, statement.params(rows))
    except driver_error as exc:  # raised as SQLAlchemy raises it on its own paths
        raise DBAPIError.instance(statement.sql, None, exc, driver_error) from exc
    finally:
        cursor.close()
    return dbapi.total_changes - before


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
        self._cache: dict[str, _SqliteInsert] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tmems-writer")
        self._pending: deque[Future[int]] = deque()
        self._failed = False
        self._done = 0  # new rows of writes already waited for

    def add(self, row: dict[str, Any]) -> None:
        self.rows[(row["source_key"], row["time"])] = row

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
                new = insert_rows(connection, rows, self._cache)
                if extra is not None:
                    extra(connection)
        except BaseException:
            self._failed = True
            raise
        return new


class _Skipped(RuntimeError):
    """A write not attempted because an earlier one failed."""
