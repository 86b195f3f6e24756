"""First sightings of Slack event ids and request signatures, recorded in the store.

Slack retries an event it thinks we missed, and an attacker may replay a signed request inside the
5-minute signature window. Both are answered once: the first instance whose insert succeeds handles it,
every other instance (or a later retry) sees the row and stays quiet. The insert is `ON CONFLICT DO
NOTHING`, so it holds across processes sharing one database.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite

from bot.timeutil import utcnow
from storage.models import SlackEventSeen

#: Rows older than this are deleted: Slack's retries and the signature window are both well inside it.
KEEP = timedelta(hours=1)
_PURGE_EVERY_SECONDS = 600.0
_KEY_LENGTH = 64

_purge_lock = threading.Lock()
_sqlite_writer = threading.Lock()
_last_purge = 0.0


def event_key(event_id: str) -> str:
    return event_id[:_KEY_LENGTH]


def signature_key(signature: str) -> str:
    """'v0=<64 hex>' -> 'sig:<60 hex>': 240 bits of the HMAC, far beyond any chance collision."""
    digest = signature.removeprefix("v0=")
    return f"sig:{digest}"[:_KEY_LENGTH]


def first_sighting(engine: Engine, key: str, *, now: datetime | None = None) -> bool:
    """Record `key`; True when this call inserted it (handle the request), False when it was already there.

    Runs on the request's hot path (before the acknowledgement), hence Core on a pooled connection, no ORM.
    """
    now = now or utcnow()
    on_sqlite = engine.dialect.name == "sqlite"
    insert = sqlite.insert if on_sqlite else postgresql.insert
    stmt = insert(SlackEventSeen).values(event_id=key, received_at=now).on_conflict_do_nothing(
        index_elements=["event_id"]
    ).returning(SlackEventSeen.event_id)
    # SQLite has one writer at a time and makes the others sleep in its busy handler (1, 2, 5 ... 100 ms): a
    # lock in the process queues our own writers without those sleeps. PostgreSQL needs none.
    with _sqlite_writer if on_sqlite else contextlib.nullcontext(), engine.begin() as conn:
        inserted = conn.execute(stmt).first() is not None
    _maybe_purge(engine, now)
    return inserted


def purge_seen(engine: Engine, *, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - KEEP
    with engine.begin() as conn:
        result = conn.execute(delete(SlackEventSeen).where(SlackEventSeen.received_at < cutoff))
    return result.rowcount or 0


def _maybe_purge(engine: Engine, now: datetime) -> None:
    """Trim old rows at most every ten minutes per process, so the table stays small without a scheduler."""
    global _last_purge
    tick = time.monotonic()
    with _purge_lock:
        if tick - _last_purge < _PURGE_EVERY_SECONDS:
            return
        _last_purge = tick
    purge_seen(engine, now=now)
