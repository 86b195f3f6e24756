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
from tests.support import store_refusing_sender
from tests.tmems.records import samples

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


def test_the_sinks_insert_stores_what_the_orm_path_stores(db_url: str, tmp_path) -> None:
    """The rows the sink writes (storage.queries.insert_events) are stored byte for byte as a session stores
    them, repeats are skipped, and the stored times are found again by a time-window query."""
    rows = _rows()
    lean, reference = Store.open(db_url), Store.open(f"sqlite:///{tmp_path / 'ref.db'}")
    try:
        with lean.engine.begin() as conn:
            assert queries.insert_events(conn, rows) == len(rows)
        with lean.engine.begin() as conn:
            assert queries.insert_events(conn, rows[::-1]) == 0  # every (time, source_key) already there
        with reference.session() as session:
            queries.insert_events(session, rows)
            session.commit()
        if lean.engine.dialect.name == "sqlite":
            assert _stored(lean) == _stored(reference)  # byte for byte, times included
        else:
            assert _stored(lean)[len(rows):] == _stored(reference)[len(rows):]  # the typed values
        with lean.session() as session:
            found = queries.events_for(session, "recipient", "rita@ourcorp.example", since=NOW.replace(hour=0))
        assert [e.time for e in found] == [next(r["time"] for r in rows if r["recipient"] == "rita@ourcorp.example")]
    finally:
        lean.dispose()
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
    store = store_refusing_sender(sqlite_url)
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
