"""Queries on the tracking store: events for a target, counts, the newest event, inserts and purges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Event

TargetKind = Literal["address", "domain", "ip", "message_id", "queue_id", "recipient", "recipient_domain"]
TARGET_KINDS: tuple[str, ...] = (
    "address", "domain", "ip", "message_id", "queue_id", "recipient", "recipient_domain",
)


def _reverse(domain: str) -> str:
    return ".".join(reversed(domain.lower().rstrip(".").split("."))) + "."


def target_condition(kind: str, value: str) -> ColumnElement[bool]:
    """The WHERE clause for a target; every kind is served by an index (no leading-wildcard LIKE)."""
    value = value.strip()
    if kind == "address":
        return Event.sender == value.lower()
    if kind == "domain":
        # "partner.example" and every subdomain: reversed names share the prefix "example.partner.".
        # '/' sorts right after '.', so [prefix, prefix-with-/) is exactly the names under the prefix.
        prefix = _reverse(value)
        return (Event.sender_domain_rev >= prefix) & (Event.sender_domain_rev < prefix[:-1] + "/")
    if kind == "ip":
        return Event.client_ip == value
    if kind == "message_id":
        bare = value.strip("<>")
        return Event.message_id.in_([bare, f"<{bare}>"])
    if kind == "queue_id":
        return Event.queue_id == value
    if kind == "recipient":
        return Event.recipient == value.lower()
    if kind == "recipient_domain":
        return Event.recipient_domain == value.lower().rstrip(".")
    raise ValueError(f"unknown target kind: {kind}")


def _window(stmt: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    if since is not None:
        stmt = stmt.where(Event.time >= since)
    if until is not None:
        stmt = stmt.where(Event.time < until)
    return stmt


def events_for(
    session: Session,
    kind: str,
    value: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 1000,
    newest_first: bool = True,
) -> list[Event]:
    """Events matching a target in [since, until), newest first by default."""
    stmt = _window(select(Event).where(target_condition(kind, value)), since, until)
    stmt = stmt.order_by(Event.time.desc() if newest_first else Event.time.asc(), Event.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def count_by_disposition(
    session: Session, kind: str, value: str, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, int]:
    """{disposition: count} for a target in the window."""
    stmt = _window(
        select(Event.disposition, func.count()).where(target_condition(kind, value)), since, until
    ).group_by(Event.disposition)
    return {disposition: count for disposition, count in session.execute(stmt)}


def newest_event_time(session: Session, source: str | None = None) -> datetime | None:
    """The time of the newest ingested event (per source if given): how far the store is current."""
    stmt = select(func.max(Event.time))
    if source is not None:
        stmt = stmt.where(Event.source == source)
    return session.scalar(stmt)


def total_events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Event)) or 0


def counts_by_source(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Event.source, func.count()).group_by(Event.source)).all())


def insert_events(conn: Connection | Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, skipping any whose source_key is already stored; returns how many were new."""
    if not rows:
        return 0
    dialect = conn.get_bind().dialect.name if isinstance(conn, Session) else conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(Event).on_conflict_do_nothing(index_elements=["source_key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(Event).on_conflict_do_nothing(index_elements=["source_key"])
    else:  # pragma: no cover - only the two supported databases
        stmt = insert(Event)
    result = conn.execute(stmt.returning(Event.id), list(rows))
    return len(result.fetchall())


def purge_older_than(session: Session, cutoff: datetime, batch: int = 50_000) -> int:
    """Delete events older than cutoff in batches (keeps SQLite's write lock short); returns the count."""
    removed = 0
    while True:
        ids = select(Event.id).where(Event.time < cutoff).limit(batch).scalar_subquery()
        result = session.execute(delete(Event).where(Event.id.in_(ids)))
        session.commit()
        removed += result.rowcount or 0
        if not result.rowcount or result.rowcount < batch:
            return removed

