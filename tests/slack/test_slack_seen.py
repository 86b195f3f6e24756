"""The replay guard's memory (bot.seen): first sighting wins, times stored as the ORM stores them, errors are
SQLAlchemy's (so the guard fails open on a store that is down, as handlers.context expects)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot import seen
from bot.timeutil import utcnow
from storage.models import SlackEventSeen


def test_first_sighting_then_seen(store) -> None:
    key = seen.signature_key("v0=" + "ab" * 32)
    assert seen.first_sighting(store.engine, key) is True
    assert seen.first_sighting(store.engine, key) is False
    assert seen.first_sighting(store.engine, seen.event_key("ev:Ev1")) is True


def test_concurrent_sightings_of_one_key_have_one_winner(store) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def sight() -> None:
        barrier.wait()
        results.append(seen.first_sighting(store.engine, "sig:race"))

    threads = [threading.Thread(target=sight) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_times_are_stored_as_the_orm_stores_them_and_purged(store) -> None:
    now = utcnow()
    seen.first_sighting(store.engine, "sig:old", now=now - seen.KEEP - timedelta(minutes=1))
    seen.first_sighting(store.engine, "sig:new", now=now)
    with store.session() as session:
        session.add(SlackEventSeen(event_id="orm", received_at=now))
        session.commit()
        stored = dict(session.execute(select(SlackEventSeen.event_id, SlackEventSeen.received_at)).all())
    assert stored["sig:new"] == stored["orm"]  # read back through the ORM: the same value, the same format
    with store.engine.connect() as conn:
        raw = dict(conn.execute(text("SELECT event_id, received_at FROM slack_events_seen")).all())
    assert type(raw["sig:new"]) is type(raw["orm"]) and len(str(raw["sig:new"])) == len(str(raw["orm"]))
    assert seen.purge_seen(store.engine, now=now) == 1
    assert seen.first_sighting(store.engine, "sig:old") is True  # forgotten after KEEP


def test_a_broken_store_raises_sqlalchemys_error(store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE slack_events_seen"))
    with pytest.raises(DBAPIError):
        seen.first_sighting(store.engine, "sig:x")


@pytest.mark.postgres
def test_on_postgresql_bursts_reuse_the_guards_own_autocommit_connections(pg_url: str) -> None:
    """The store's pool keeps 5 connections and closes the rest on return, so each burst of acks paid a
    PostgreSQL backend per request beyond the fifth; the guard's own pool keeps what a burst opened."""
    from sqlalchemy import event

    from bot.store import Store
    from storage.db import make_engine, upgrade
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(pg_url)
    try:
        guard = seen._guard_engine(store.engine)
        connects: list[int] = []
        event.listen(guard, "connect", lambda *_: connects.append(1))
        burst = 12

        def sightings(prefix: str) -> None:
            barrier = threading.Barrier(burst)

            def one(i: int) -> None:
                barrier.wait()
                assert seen.first_sighting(store.engine, seen.event_key(f"ev:{prefix}{i}")) is True

            threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        sightings("a")
        opened = len(connects)
        assert 1 <= opened <= burst and guard.pool.checkedin() == opened  # all kept, none closed on return
        sightings("b")
        assert len(connects) - opened <= burst - opened  # the second burst reuses them (opens only what it lacks)
        with guard.connect() as conn:  # autocommit: no transaction left open by a sighting
            assert conn.connection.dbapi_connection.autocommit is True
    finally:
        store.dispose()
    assert store.engine not in seen._guards  # disposing the store closed the guard's connections
