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
