"""The lean insert path stores exactly what storage.queries.insert_events stores, and deduplicates the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, select, type_coerce

from bot.config import Settings
from bot.ingest.tmems_map import Mapper
from bot.ingest.tmems_store import EventSink
from bot.store import Store
from storage import queries
from storage.models import Event
from tests.tmems.records import samples, synthetic

NOW = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)


def _rows() -> list[dict]:
    mapper = Mapper(Settings())
    return [e.as_row() for s in samples(NOW) for e in mapper.map(s.kind, s.record)]


def _stored(store: Store) -> list[tuple]:
    columns = [c for c in Event.__table__.c if c.name != "id"]
    with store.engine.connect() as conn:
        # type_coerce to String: the values as the database holds them, without the types' result processing
        raw = conn.execute(select(*(type_coerce(c, String) for c in columns)).order_by(Event.source_key)).fetchall()
        typed = conn.execute(select(*columns).order_by(Event.source_key)).fetchall()
    return [tuple(r) for r in raw] + [tuple(r) for r in typed]


def _many_rows(n: int) -> list[dict]:
    """`n` rows of every kind the poller makes (synthetic traffic plus the samples)."""
    mapper = Mapper(Settings())
    rows = [row for kind, records in synthetic(n, NOW.replace(hour=6), NOW).items()
            for record in records for row in mapper.rows(kind, record)]
    return (_rows() + rows)[:n]


def test_threaded_multirow_insert_stores_what_executemany_stores(db_url: str, tmp_path) -> None:
    """insert_events(threaded=True) (multi-row statements of 500/100/20/5/1 rows on SQLite) stores byte for byte
    what the executemany path stores, counts new rows the same, and skips what is already there."""
    rows = _many_rows(623)  # 500 + 100 + 20 + 1 + 1 + 1: every statement size
    threaded, reference = Store.open(db_url), Store.open(f"sqlite:///{tmp_path / 'ref.db'}")
    try:
        with threaded.engine.begin() as conn:
            groups: list[int] = []
            if conn.dialect.name == "sqlite":  # the statements the driver runs: one per chunk, not one per row
                dbapi = conn.connection.dbapi_connection
                dbapi.set_trace_callback(lambda sql: groups.append(sql.count("), (") + 1)
                                         if sql.startswith("INSERT INTO events") else None)
            assert queries.insert_events(conn, rows, threaded=True) == len(rows) == 623
            if conn.dialect.name == "sqlite":
                dbapi.set_trace_callback(None)
                assert groups == [500, 100, 20, 1, 1, 1]
        with threaded.engine.begin() as conn:
            assert queries.insert_events(conn, rows[::-1], threaded=True) == 0  # every (time, source_key) there
        one_more = [*rows, dict(rows[0], source_key="tmems:test:new")]
        with threaded.engine.begin() as conn:
            assert queries.insert_events(conn, one_more, threaded=True) == 1
        with reference.engine.begin() as conn:
            queries.insert_events(conn, one_more)
        if threaded.engine.dialect.name == "sqlite":
            assert _stored(threaded) == _stored(reference)  # byte for byte, times included
        else:
            assert _stored(threaded)[len(one_more):] == _stored(reference)[len(one_more):]  # the typed values
        with threaded.session() as session:
            found = queries.events_for(session, "recipient", "rita@ourcorp.example", since=NOW.replace(hour=0))
        assert [e.time for e in found] == [next(r["time"] for r in rows if r["recipient"] == "rita@ourcorp.example")]
    finally:
        threaded.dispose()
        reference.dispose()


def test_the_sink_flushes_when_full_and_drops_repeats(store: Store) -> None:
    rows = _rows()
    sink = EventSink(store, flush_rows=5)
    new = 0
    for row in rows + rows[:3]:
        sink.add(row)
        if sink.full:
            new += sink.flush()
    new += sink.flush()
    assert new == len(rows)
    with store.session() as session:
        assert queries.total_events(session) == len(rows)


def test_after_a_failed_write_nothing_later_runs(sqlite_url: str) -> None:
    """A write that fails (here: a trigger refusing one sender) stops every later write, the cursor's too."""
    from sqlalchemy import text

    from storage.db import make_engine, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.sender = 'boom@x.example' "
                          "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"))
    engine.dispose()
    store = Store.open(sqlite_url)
    rows = _rows()
    bad = dict(rows[0], sender="boom@x.example", source_key="tmems:test:boom")
    cursor_moved = []
    sink = EventSink(store, flush_rows=4)
    try:
        for row in rows[1:5]:
            sink.add(row)
        sink.submit()
        sink.add(bad)
        sink.submit()
        for row in rows[5:9]:
            sink.add(row)
        with pytest.raises(Exception, match="refused by the test trigger"):
            sink.flush(lambda conn: cursor_moved.append(True))
    finally:
        sink.close()
    assert cursor_moved == []
    with store.session() as session:
        assert queries.total_events(session) == 4  # the first batch only
    store.dispose()
