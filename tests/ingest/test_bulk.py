"""Bulk loads: the event indexes dropped for a large load into a small SQLite store are built again, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bench.postfix_synth import write_log
from bot.cli import main
from bot.ingest import runner
from bot.ingest.runner import Ingestor
from bot.store import Store
from storage import bulk
from storage.models import Event
from tests.ingest.test_ingest_runner import stored

SECONDARY = sorted(str(index.name) for index in Event.__table__.indexes)


def index_statements(store: Store) -> dict[str, str]:
    """What SQLite holds of the event table's indexes (name -> statement; the unique key's has none)."""
    with store.engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")).all())


@pytest.fixture
def bulk_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few hundred kilobytes count as a bulk load (the real thresholds start at hundreds of megabytes)."""
    monkeypatch.setattr(runner, "WRITER_BYTES", 64 * 1024)
    monkeypatch.setattr(runner, "BYTES_PER_EVENT", 1)
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1000)


def test_deferred_indexes_are_recorded_and_rebuilt_exactly(sqlite_url: str) -> None:
    from storage.db import make_engine, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    store = Store.open(sqlite_url)
    before = index_statements(store)
    assert set(SECONDARY) <= set(before)
    assert bulk.defer_indexes(store.engine, bulk.BULK_MIN_ROWS) == SECONDARY
    left = index_statements(store)
    assert set(left).isdisjoint(SECONDARY) and any(name.startswith("sqlite_autoindex") for name in left)
    assert bulk.deferred_indexes(store.engine) == SECONDARY
    assert bulk.defer_indexes(store.engine, bulk.BULK_MIN_ROWS) == SECONDARY  # a resumed load stays deferred
    assert bulk.restore_indexes(store.engine) == SECONDARY
    assert index_statements(store) == before
    assert bulk.deferred_indexes(store.engine) == [] and bulk.restore_indexes(store.engine) == []
    store.dispose()
    engine.dispose()


def test_small_loads_and_loads_smaller_than_the_store_keep_the_indexes(store: Store) -> None:
    """PostgreSQL never defers; SQLite not below BULK_MIN_ROWS, nor when the store holds more than the load."""
    assert bulk.defer_indexes(store.engine, bulk.BULK_MIN_ROWS - 1) == []
    if store.engine.dialect.name != "sqlite":
        assert bulk.defer_indexes(store.engine, 10**9) == [] and bulk.deferred_indexes(store.engine) == []
        return
    with store.engine.begin() as conn:  # a store of ~10 million rows, as far as max(id) tells
        conn.execute(text("INSERT INTO events (id, time, source, source_key, direction, disposition) "
                          "VALUES (10000000, '2026-11-30 08:00:00', 'test', 'test:k', 'inbound', 'delivered')"))
    assert bulk.defer_indexes(store.engine, 5_000_000) == []
    assert set(SECONDARY) <= {ix["name"] for ix in inspect(store.engine).get_indexes("events")}
    assert bulk.defer_indexes(store.engine, 20_000_000) == SECONDARY  # a load larger than the store: worth it


def test_a_bulk_ingest_stores_what_an_indexed_one_does_and_ends_indexed(
        sqlite_url: str, tmp_path: Path, bulk_thresholds: None) -> None:
    log = tmp_path / "maillog"
    write_log(log, 3000, seed=11)
    reference = Store.open(f"sqlite:///{tmp_path / 'reference.db'}")
    runner.WRITER_BYTES, saved = 1 << 40, runner.WRITER_BYTES  # the reference run: no writer, no deferral
    try:
        Ingestor(reference, "postfix").ingest(log)
    finally:
        runner.WRITER_BYTES = saved
    store = Store.open(sqlite_url)
    result = Ingestor(store, "postfix").ingest(log)
    assert result.indexes_built == SECONDARY
    assert any(f"built the {len(SECONDARY)} event indexes deferred for this bulk load" in note for note in result.notes)
    assert result.new_events == result.stats.events > 3000
    assert stored(store) == stored(reference)
    assert index_statements(store) == index_statements(reference)
    assert bulk.deferred_indexes(store.engine) == []
    reference.dispose()
    store.dispose()


def test_what_a_stopped_bulk_load_left_deferred_is_built_by_the_next_ingest(
        sqlite_url: str, tmp_path: Path, bulk_thresholds: None) -> None:
    store = Store.open(sqlite_url)
    assert bulk.defer_indexes(store.engine, 10**6) == SECONDARY  # as a killed load leaves the store
    small = tmp_path / "small.log"
    write_log(small, 20, seed=3)
    result = Ingestor(store, "postfix").ingest(small)
    assert result.indexes_built == SECONDARY and bulk.deferred_indexes(store.engine) == []
    assert set(SECONDARY) <= set(index_statements(store))
    store.dispose()


def test_stats_names_deferred_indexes_and_db_upgrade_builds_them(
        sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(sqlite_url)
    bulk.defer_indexes(store.engine, 10**6)
    store.dispose()
    assert main(["--database", sqlite_url, "stats"]) == 0
    assert "indexes deferred by a bulk load that has not finished: ix_events_client_ip_time" in capsys.readouterr().out
    assert main(["--database", sqlite_url, "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"built {len(SECONDARY)} event indexes an unfinished bulk load had deferred" in out
    assert main(["--database", sqlite_url, "stats", "--json"]) == 0
    assert '"deferred_indexes": []' in capsys.readouterr().out


def test_a_bulk_load_that_fails_half_way_still_builds_the_indexes_it_dropped(
        sqlite_url: str, tmp_path: Path, bulk_thresholds: None) -> None:
    """The database refuses one sender's events (a trigger) in the middle of the log: the ingestion fails with the
    database's error, and the indexes it deferred are built again before it returns."""
    from tests.support import store_refusing_sender

    log = tmp_path / "maillog"
    write_log(log, 3000, seed=11)
    lines = log.read_text().splitlines()
    refused = next(line.split("from=<", 1)[1].split(">", 1)[0] for line in lines[len(lines) // 2:]
                   if "NOQUEUE: reject:" in line and "from=<" in line)
    store = store_refusing_sender(sqlite_url, sender=refused.lower())
    try:
        with pytest.raises(Exception, match="refused by the test trigger"):
            Ingestor(store, "postfix").ingest(log)
        assert bulk.deferred_indexes(store.engine) == []
        assert set(SECONDARY) <= set(index_statements(store))
    finally:
        store.dispose()
