"""First sightings of Slack event ids and request signatures, recorded in the store.

Slack retries an event it thinks we missed, and an attacker may replay a signed request inside the
5-minute signature window. Both are answered once: the first instance whose insert succeeds handles it,
every other instance (or a later retry) sees the row and stays quiet. The insert is `ON CONFLICT DO
NOTHING`, so it holds across processes sharing one database.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Dialect, Engine, Insert, bindparam, create_engine, delete
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

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

    Runs on every request's hot path, before the acknowledgement: on SQLite one statement on the driver's
    connection (0.05 ms of CPU instead of 0.26 ms through a Core statement built per call), on PostgreSQL a
    Core statement built once, on the guard's own pool (_guard_engine). Errors are SQLAlchemy's DBAPIError
    either way.
    """
    now = now or utcnow()
    if engine.dialect.name == "sqlite":
        inserted = _first_sighting_sqlite(engine, key, now)
    else:
        with _guard_engine(engine).connect() as conn:
            inserted = conn.execute(_postgresql_insert(), {"key": key, "at": now}).first() is not None
    _maybe_purge(engine, now)
    return inserted


_SQLITE_INSERT = ("INSERT INTO slack_events_seen (event_id, received_at) VALUES (?, ?) "
                  "ON CONFLICT (event_id) DO NOTHING RETURNING event_id")


def _first_sighting_sqlite(engine: Engine, key: str, now: datetime) -> bool:
    """SQLite has one writer at a time and makes the others sleep in its busy handler (1, 2, 5 ... 100 ms): a
    lock in the process queues our own writers without those sleeps. The time is stored exactly as the ORM
    stores it (the column type's bind processor), so purge_seen's comparison holds."""
    dialect = engine.dialect
    at = _sqlite_time(dialect)(now)
    with _sqlite_writer:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(_SQLITE_INSERT, (key, at))
                inserted = cursor.fetchone() is not None
            finally:
                cursor.close()
            connection.commit()
        except dialect.loaded_dbapi.Error as exc:  # the pool rolls back as the connection goes back to it
            raise DBAPIError.instance(_SQLITE_INSERT, None, exc, dialect.loaded_dbapi.Error) from exc
        finally:
            connection.close()
    return inserted


@functools.cache
def _sqlite_time(dialect: Dialect) -> Callable[[datetime], Any]:
    column = SlackEventSeen.__table__.c.received_at
    return column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)


#: Connections the PostgreSQL guard keeps open once a burst has opened them: one per HTTP thread (16). The
#: store's own pool keeps 5 and closes the rest on return, so every burst of acks paid a new server process
#: (a PostgreSQL backend fork) per concurrent request beyond the fifth.
GUARD_POOL_SIZE = 16

_guards: dict[Engine, Engine] = {}
_guards_lock = threading.Lock()


def _guard_engine(engine: Engine) -> Engine:
    """The guard's own pool on PostgreSQL: autocommit (INSERT ... ON CONFLICT is one atomic statement, so no
    BEGIN/COMMIT round trips) and no ping before each use (a connection the server dropped fails the insert,
    which lets the request through, and the pool replaces it). One round trip per request instead of four.
    Measured at 50 clients: ack p99 131-158 ms -> 68-117 ms. Closed by `release` (Store.dispose)."""
    with _guards_lock:
        guard = _guards.get(engine)
        if guard is None:
            guard = _guards[engine] = create_engine(
                engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_size=GUARD_POOL_SIZE,
                max_overflow=8, connect_args={"connect_timeout": 5})
        return guard


def release(engine: Engine) -> None:
    """Close the guard's connections for `engine` (a store being disposed); a later sighting opens new ones."""
    with _guards_lock:
        guard = _guards.pop(engine, None)
    if guard is not None:
        guard.dispose()


@functools.cache
def _postgresql_insert() -> Insert:
    return postgresql.insert(SlackEventSeen).values(
        event_id=bindparam("key"), received_at=bindparam("at")
    ).on_conflict_do_nothing(index_elements=["event_id"]).returning(SlackEventSeen.event_id)


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
