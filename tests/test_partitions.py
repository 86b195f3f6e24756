"""Day partitions of the event table on PostgreSQL (SQLite keeps a plain table)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import Settings
from bot.events import TrackingEvent
from bot.maintenance import prepare_partitions, purge_expired
from bot.store import Store
from storage import partitions, queries
from storage.db import make_engine, upgrade
from storage.models import Event

DAY = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg_store(pg_url: str) -> Store:
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(pg_url)
    yield store
    store.dispose()


def _row(key: str, when: datetime) -> dict[str, object]:
    return TrackingEvent(time=when, source="test", source_key=key, direction="inbound",
                         disposition="rejected", sender="a@b.example").as_row()


def test_insert_creates_the_day_partitions(pg_store: Store) -> None:
    with pg_store.session() as s:
        assert partitions.is_partitioned(s.connection())
        rows = [_row(f"k{i}", DAY + timedelta(hours=13 * i)) for i in range(5)]  # spans 3 days
        assert queries.insert_events(s, rows) == 5
        s.commit()
        days = set(partitions.existing_partitions(s.connection()))
    assert days == {date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)}


def test_duplicate_keys_are_skipped_across_partitions(pg_store: Store) -> None:
    with pg_store.session() as s:
        queries.insert_events(s, [_row("same", DAY)])
        assert queries.insert_events(s, [_row("same", DAY), _row("other", DAY + timedelta(days=2))]) == 1
        s.commit()


def test_orm_insert_gets_its_partition(pg_store: Store) -> None:
    with pg_store.session() as s:
        s.add(Event(**_row("orm", DAY + timedelta(days=20))))
        s.commit()
        assert queries.total_events(s) == 1


def test_purge_drops_whole_partitions_and_trims_the_edge(pg_store: Store) -> None:
    with pg_store.session() as s:
        queries.insert_events(s, [_row(f"d{i}", DAY + timedelta(days=i, hours=1)) for i in range(6)])
        queries.insert_events(s, [_row("edge-old", DAY + timedelta(days=3, hours=0)),
                                  _row("edge-new", DAY + timedelta(days=3, hours=5))])
        s.commit()
        cutoff = DAY + timedelta(days=3, hours=2)  # 2026-11-13 14:00
        assert queries.purge_older_than(s, cutoff) == 5  # 3 whole days (10th-12th) + 2 rows on the 13th
        left = {e.source_key for e in s.query(Event)}
        assert left == {"edge-new", "d4", "d5"}
        assert min(partitions.existing_partitions(s.connection())) == date(2026, 11, 13)


def test_concurrent_writers_create_each_partition_once(pg_store: Store) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with pg_store.session() as s:
                queries.insert_events(s, [_row(f"t{n}-{i}", DAY + timedelta(days=i)) for i in range(4)])
                s.commit()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pg_store.session() as s:
        assert queries.total_events(s) == 32
        assert len(partitions.existing_partitions(s.connection())) == 4


def test_maintenance_prepares_partitions_and_purges(pg_store: Store) -> None:
    now = DAY + timedelta(days=40)
    assert prepare_partitions(pg_store, now=now, days_ahead=2) == 4  # yesterday, today and two ahead
    assert prepare_partitions(pg_store, now=now, days_ahead=2) == 0
    with pg_store.session() as s:
        queries.insert_events(s, [_row("old", DAY), _row("new", now)])
        s.commit()
    assert purge_expired(pg_store, Settings(retention_days=30), now=now) == 1


def test_maintenance_on_sqlite_purges_in_batches(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    now = DAY + timedelta(days=40)
    assert prepare_partitions(store, now=now) == 0
    with store.session() as s:
        queries.insert_events(s, [_row(f"o{i}", DAY) for i in range(3)] + [_row("n", now)])
        s.commit()
    assert purge_expired(store, Settings(retention_days=30), now=now) == 3
    store.dispose()
