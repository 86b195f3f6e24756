"""The lean insert path stores exactly what storage.queries.insert_events stores, and deduplicates the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, select, type_coerce

from bot.config import Settings
from bot.ingest.tmems import CursorMove, load_cursor
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


@pytest.mark.parametrize("flush_rows", [5, 10**6], ids=["writer-process", "in-place"])
def test_the_sink_flushes_when_full_and_drops_repeats(store: Store, flush_rows: int) -> None:
    rows = _rows()
    sink = EventSink(store, flush_rows=flush_rows)
    new = 0
    try:
        for row in rows + rows[:3]:
            sink.add(row)
            sink.page_done()
        new += sink.flush(CursorMove("accepted_traffic", NOW, (), len(rows)))
        assert sink.in_process == (flush_rows == 5)
    finally:
        sink.close()
    assert new == len(rows)
    assert [move.end for move in sink.take_committed()] == [NOW]
    with store.session() as session:
        assert queries.total_events(session) == len(rows)
        assert load_cursor(session, "accepted_traffic")[0] == NOW


@pytest.mark.parametrize("flush_rows", [4, 10**6], ids=["writer-process", "in-place"])
def test_after_a_failed_write_nothing_later_runs(sqlite_url: str, flush_rows: int) -> None:
    """A write that fails (here: a trigger refusing one sender) stops every later write, the cursor's too."""
    store = store_refusing_sender(sqlite_url)
    rows = _rows()
    bad = dict(rows[0], sender="boom@x.example", source_key="tmems:test:boom")
    sink = EventSink(store, flush_rows=flush_rows)
    try:
        for row in rows[1:5]:
            sink.add(row)
        sink.page_done()  # full: handed to the writer process, or kept when it is stored in place
        sink.add(bad)
        with pytest.raises(Exception, match="refused by the test trigger"):
            for row in rows[5:9]:
                sink.add(row)
                sink.page_done()
            sink.flush(CursorMove("accepted_traffic", NOW, (), 9))
        assert sink.take_committed() == []
    finally:
        sink.close()
    with store.session() as session:
        assert queries.total_events(session) == (4 if flush_rows == 4 else 0)  # the first batch only
        assert load_cursor(session, "accepted_traffic") == (None, {})
    store.dispose()
