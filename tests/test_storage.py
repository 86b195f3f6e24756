"""Models and queries on real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from bot.events import TrackingEvent
from bot.store import Store
from storage import queries
from storage.db import StoreError, current_revisions, head_revisions, make_engine, open_store

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _event(key: str, **kw: object) -> dict[str, object]:
    fields: dict[str, object] = dict(time=T0, source="test", source_key=key, direction="inbound",
                                     disposition="rejected", sender="alice@mx.partner.example",
                                     recipient="bob@ours.example", client_ip="192.0.2.10")
    fields.update(kw)
    return TrackingEvent(**fields).as_row()  # type: ignore[arg-type]


def test_migrations_reach_head(store: Store) -> None:
    assert current_revisions(store.engine) == head_revisions()
    tables = set(inspect(store.engine).get_table_names())
    assert {"events", "ingest_cursors", "approved_senders", "audit_log", "cases", "digest_runs"} <= tables


def test_insert_is_idempotent_by_source_key(store: Store) -> None:
    with store.session() as s:
        assert queries.insert_events(s, [_event("a"), _event("b")]) == 2
        assert queries.insert_events(s, [_event("a"), _event("b"), _event("c")]) == 1
        s.commit()
        assert queries.total_events(s) == 3


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("address", "ALICE@mx.partner.example", {"a", "b"}),
        ("domain", "partner.example", {"a", "b", "c"}),
        ("domain", "mx.partner.example", {"a", "b"}),
        ("domain", "rtner.example", set()),
        ("domain", "example", {"a", "b", "c", "d", "e"}),
        ("ip", "192.0.2.10", {"a", "c"}),
        ("message_id", "<m1@partner.example>", {"b"}),
        ("message_id", "m1@partner.example", {"b"}),
        ("queue_id", "ABC123", {"c"}),
        ("recipient", "bob@ours.example", {"a", "b", "c", "d"}),
        ("recipient_domain", "ours.example", {"a", "b", "c", "d"}),
    ],
)
def test_events_for_each_target_kind(store: Store, kind: str, value: str, expected: set[str]) -> None:
    with store.session() as s:
        queries.insert_events(s, [
            _event("a"),
            _event("b", client_ip="192.0.2.11", message_id="<m1@partner.example>"),
            _event("c", sender="carol@partner.example", queue_id="ABC123"),
            _event("d", sender="dan@other.example", client_ip="192.0.2.99"),
            _event("e", sender="eve@notpartner.example", recipient="x@else.example", client_ip="192.0.2.98"),
        ])
        s.commit()
        found = {e.source_key for e in queries.events_for(s, kind, value)}
    assert found == expected


def test_window_counts_and_newest(store: Store) -> None:
    with store.session() as s:
        queries.insert_events(s, [
            _event("old", time=T0 - timedelta(days=40), disposition="delivered"),
            _event("mid", time=T0 - timedelta(days=2), disposition="delivered"),
            _event("new", time=T0, disposition="rejected"),
        ])
        s.commit()
        since = T0 - timedelta(days=30)
        counts = queries.count_by_disposition(s, "address", "alice@mx.partner.example", since=since)
        assert counts == {"delivered": 1, "rejected": 1}
        newest = queries.newest_event_time(s)
        assert newest == T0 and newest.tzinfo is not None
        rows = queries.events_for(s, "address", "alice@mx.partner.example", since=since)
        assert [r.source_key for r in rows] == ["new", "mid"]
        assert all(r.time.tzinfo is not None for r in rows)


def test_purge_removes_only_old_events(store: Store) -> None:
    with store.session() as s:
        queries.insert_events(s, [_event(f"o{i}", time=T0 - timedelta(days=31)) for i in range(7)])
        queries.insert_events(s, [_event("keep", time=T0)])
        s.commit()
        assert queries.purge_older_than(s, T0 - timedelta(days=30), batch=3) == 7
        assert queries.total_events(s) == 1


def test_empty_sqlite_file_is_migrated_on_first_use(sqlite_url: str) -> None:
    engine = open_store(sqlite_url)
    assert current_revisions(engine) == head_revisions()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unreachable"):
        open_store("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="folder"):
        make_engine("sqlite:////no/such/folder/x.db")


def test_bulk_insert_stores_times_exactly_as_the_orm_does(sqlite_url: str) -> None:
    """Times are compared as text on SQLite: the bulk path must write the ORM's format to the digit."""
    from sqlalchemy import text

    from storage.models import Event

    store = Store.open(sqlite_url)
    with store.session() as s:
        queries.insert_events(s, [_event("bulk", time=T0)])
        s.add(Event(**_event("orm", time=T0)))
        s.commit()
        stored = dict(s.execute(text("SELECT source_key, time FROM events")).all())
    store.dispose()
    assert stored["bulk"] == stored["orm"] == "2026-11-20 12:00:00.000000"


def test_upgrading_a_store_of_the_previous_schema_keeps_its_events_and_their_dedup(db_url: str) -> None:
    """0005 swaps the unique key to (time, source_key) and drops the time index; what was stored stays, stored
    events are still recognised on re-ingest, and the store ends with exactly the model's indexes."""
    from alembic import command
    from sqlalchemy import text

    from storage.db import alembic_config
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0002")
    command.upgrade(alembic_config(engine), "0004")
    with engine.begin() as conn:
        assert queries.insert_events(conn, [_event("a"), _event("b", time=T0 + timedelta(days=1))]) == 2
    command.upgrade(alembic_config(engine), "heads")
    assert current_revisions(engine) == head_revisions()
    with engine.begin() as conn:
        assert queries.insert_events(conn, [_event("a"), _event("b", time=T0 + timedelta(days=1)), _event("c")]) == 1
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 3
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("events")}
    uniques = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("events")}
    assert "ix_events_time" not in indexes and "ix_events_sender_time" in indexes
    assert uniques == {("time", "source_key")}
    engine.dispose()


def test_insert_events_refuses_a_naive_time_and_unknown_columns_on_both_databases(store) -> None:
    """The lean insert paths (driver executemany on SQLite, COPY on PostgreSQL) keep the column types' checks."""
    row = {"time": datetime(2026, 11, 30, 8, 0), "source": "test", "source_key": "test:naive", "direction": "inbound",
           "disposition": "delivered"}
    with pytest.raises(Exception, match="naive datetime"), store.engine.begin() as conn:
        queries.insert_events(conn, [row])
    with pytest.raises(ValueError, match="not columns of the event table"), store.engine.begin() as conn:
        queries.insert_events(conn, [dict(row, time=datetime(2026, 11, 30, 8, 0, tzinfo=UTC), bogus=1)])


def test_a_store_whose_schema_is_behind_is_refused_on_both_databases(db_url: str) -> None:
    """One rule on SQLite and PostgreSQL: no silent upgrade (a long rebuild must not start from a plain `why`)."""
    from alembic import command

    from storage.db import alembic_config

    engine = make_engine(db_url)
    command.downgrade(alembic_config(engine), "0004")
    engine.dispose()
    with pytest.raises(StoreError, match=r"schema is behind \(at .*0004.*run `bouncebot db upgrade`"):
        open_store(db_url)
    engine = make_engine(db_url)
    assert "0004" in current_revisions(engine) != head_revisions()   # untouched
    engine.dispose()


def test_a_failed_migration_says_which_where_it_stopped_and_what_to_do(db_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config, upgrade_or_explain

    engine = make_engine(db_url)
    command.stamp(alembic_config(engine), "0004", purge=True)   # the tables are newer than the stamp says
    with pytest.raises(StoreError) as caught:
        upgrade_or_explain(engine)
    engine.dispose()
    message = str(caught.value)
    assert message.startswith("the schema migration 0005 (")
    assert "failed: " in message and "The store is left at 0004" in message
    assert "run `bouncebot db upgrade` again" in message


def test_unsupported_url_kinds_name_the_supported_ones() -> None:
    for url in ("mysql://u:pw@h/db", "postgresql+psycopg2://u:pw@h/db", "oracle://h/db"):
        with pytest.raises(StoreError, match="unsupported database URL kind") as caught:
            make_engine(url)
        assert "SQLite" in str(caught.value) and "PostgreSQL via psycopg 3" in str(caught.value)
        assert "pw" not in str(caught.value)
