"""Bulk loads into SQLite: the event table's secondary indexes are dropped for a load much larger than the store
and built again at its end.

Keeping six B-trees (sender, sender domain, client IP, recipient, message-id, queue id) in order row by row is
most of what storing an event costs SQLite: each insert lands on a random page of each of them, and once the
indexes outgrow the page cache every such page is read back. Built at the end, each index is one sort.

The statement of every dropped index is recorded (table deferred_indexes) in the transaction that drops it, so
whatever stops the load, `restore_indexes` builds exactly what was dropped: at the end of the load, at the start
of the next ingestion, and before `bouncebot db upgrade` migrates. Queries stay correct meanwhile, only slower;
the unique key (time, source_key) that makes a repeated row harmless is never dropped. PostgreSQL is left alone:
its COPY path is not bound by index upkeep, and a production store is queried while it loads.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, insert, inspect, select, text

from storage.models import DeferredIndex, Event

#: A load defers the indexes only when it is expected to bring at least this many rows (below it, building the
#: indexes at the end takes longer than the upkeep it saves: measured on 45 MB / 82,801 events, docs/benchmarks)
#: and more rows than the store already holds (every index is built over the whole table).
BULK_MIN_ROWS = 250_000

_INDEXES_OF_EVENTS = text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
                          "AND sql IS NOT NULL")
_INDEX_EXISTS = text("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name")


def defer_indexes(engine: Engine, expected_rows: int) -> list[str]:
    """Drop the event table's secondary indexes for a load of about `expected_rows` rows, if that pays. Returns
    the names deferred, those a killed load left deferred included (a resumed load stays fast); [] otherwise."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.begin() as conn:
        already = set(conn.scalars(select(DeferredIndex.name)))
        if not already and (expected_rows < BULK_MIN_ROWS or _stored_rows(conn) > expected_rows):
            return []
        present = {name: ddl for name, ddl in conn.execute(_INDEXES_OF_EVENTS)}
        now = datetime.now(UTC)
        for index in Event.__table__.indexes:
            ddl = present.get(index.name or "")
            if ddl is None:
                continue
            conn.execute(insert(DeferredIndex).values(name=index.name, ddl=ddl, deferred_at=now))
            index.drop(conn)
            already.add(str(index.name))
    return sorted(already)


def restore_indexes(engine: Engine) -> list[str]:
    """Build every index a bulk load deferred (each in its own transaction, with the statement recorded when it
    was dropped); returns their names. Nothing to do is one small query."""
    built = []
    for name, ddl in _recorded(engine):
        with engine.begin() as conn:
            if conn.scalar(_INDEX_EXISTS, {"name": name}) is None:
                # The statement is SQLite's own text of an index of this store (sqlite_master), never input.
                conn.exec_driver_sql(ddl)
            conn.execute(delete(DeferredIndex).where(DeferredIndex.name == name))
        built.append(name)
    return built


def deferred_indexes(engine: Engine) -> list[str]:
    """The names of the indexes a bulk load has dropped and not yet built again."""
    return [name for name, _ddl in _recorded(engine)]


def _recorded(engine: Engine) -> list[tuple[str, str]]:
    """(name, statement) of every index recorded as deferred, by name; none on PostgreSQL or before migration 0006."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as conn:
        if not inspect(conn).has_table(DeferredIndex.__tablename__):
            return []
        return [(name, ddl) for name, ddl in conn.execute(
            select(DeferredIndex.name, DeferredIndex.ddl).order_by(DeferredIndex.name))]


def _stored_rows(conn: Connection) -> int:
    """About how many events the store holds: the highest id (one index probe; count(*) would read the table)."""
    return int(conn.scalar(select(func.max(Event.id))) or 0)
