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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite

from bot.store import Store
from storage.models import Event
from storage.queries import insert_events

#: Rows per transaction: big enough that commits are rare, small enough to keep SQLite's write lock short.
FLUSH_ROWS = 5000


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
    before = dbapi.total_changes
    cursor = dbapi.cursor()
    try:
        cursor.executemany(statement.sql, statement.params(rows))
    finally:
        cursor.close()
    return dbapi.total_changes - before


class EventSink:
    """Buffers event rows (deduplicated by key) and writes them `flush_rows` at a time."""

    def __init__(self, store: Store, flush_rows: int = FLUSH_ROWS) -> None:
        self.store = store
        self.flush_rows = flush_rows
        self.rows: dict[tuple[str, Any], dict[str, Any]] = {}
        self._cache: dict[str, _SqliteInsert] = {}

    def add(self, row: dict[str, Any]) -> None:
        self.rows[(row["source_key"], row["time"])] = row

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.flush_rows

    def flush(self, extra: Callable[[Connection], None] | None = None) -> int:
        """Write the buffered rows (and run `extra` in the same transaction); returns the new count."""
        rows = list(self.rows.values())
        self.rows.clear()
        with self.store.engine.begin() as connection:
            new = insert_rows(connection, rows, self._cache)
            if extra is not None:
                extra(connection)
        return new
