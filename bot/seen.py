"""First sightings of Slack event ids and request signatures, recorded in the store.

Slack retries an event it thinks we missed, and an attacker may replay a signed request inside the
5-minute signature window. Both are answered once: the first instance whose insert succeeds handles it,
every other instance (or a later retry) sees the row and stays quiet. The insert is `ON CONFLICT DO
NOTHING`, so it holds across processes sharing one database.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.timeutil import utcnow
from storage.models import SlackEventSeen

#: Rows older than this are deleted: Slack's retries and the signature window are both well inside it.
KEEP = timedelta(hours=1)
_PURGE_EVERY_SECONDS = 600.0
_KEY_LENGTH = 64

_purge_lock = threading.Lock()
_last_purge = 0.0


def event_key(event_id: str) -> str:
    return event_id[:_KEY_LENGTH]


def signature_key(signature: str) -> str:
    """'v0=<64 hex>' -> 'sig:<60 hex>': 240 bits of the HMAC, far beyond any chance collision."""
    digest = signature.removeprefix("v0=")
    return f"sig:{digest}"[:_KEY_LENGTH]


def first_sighting(session: Session, key: str, *, now: datetime | None = None) -> bool:
    """Record `key`; True when this call inserted it (handle the request), False when it was already there."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SlackEventSeen).values(event_id=key, received_at=now).on_conflict_do_nothing(
        index_elements=["event_id"]
    ).returning(SlackEventSeen.event_id)
    inserted = session.execute(stmt).first() is not None
    session.commit()
    _maybe_purge(session, now)
    return inserted


def purge_seen(session: Session, *, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - KEEP
    result = session.execute(delete(SlackEventSeen).where(SlackEventSeen.received_at < cutoff))
    session.commit()
    return result.rowcount or 0


def _maybe_purge(session: Session, now: datetime) -> None:
    """Trim old rows at most every ten minutes per process, so the table stays small without a scheduler."""
    global _last_purge
    tick = time.monotonic()
    with _purge_lock:
        if tick - _last_purge < _PURGE_EVERY_SECONDS:
            return
        _last_purge = tick
    purge_seen(session, now=now)
