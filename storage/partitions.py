"""Day partitions of the event table on PostgreSQL: created ahead and on demand, dropped for retention.

SQLite keeps a plain table (retention there is a batched DELETE). Partition names are events_pYYYYMMDD; each
holds [day 00:00 UTC, next day 00:00 UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Mapper

from storage.models import EVENT_COLUMNS, Event

_NAME = re.compile(r"^events_p(\d{8})$")
#: pg_advisory_xact_lock key serialising partition DDL between processes ("bbparts").
_LOCK_KEY = 0x6262_7061_7274_73


def partition_name(day: date) -> str:
    return f"events_p{day:%Y%m%d}"


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = 'events' AND pg_table_is_visible(c.oid))"
    )))


def existing_partitions(conn: Connection) -> dict[date, str]:
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'events' AND pg_table_is_visible(p.oid)"
    ))
    found = {}
    for (name,) in rows:
        match = _NAME.match(name)
        if match:
            found[datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return found


def ensure_partitions(conn: Connection, days: Iterable[date]) -> list[date]:
    """Create the missing day partitions (idempotent, safe between processes); returns the days created."""
    wanted = sorted(set(days))
    if not wanted or conn.dialect.name != "postgresql":
        return []
    have = existing_partitions(conn)
    missing = [d for d in wanted if d not in have]
    if not missing:
        return []
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    have = existing_partitions(conn)  # another process may have created them while we waited
    created = []
    for day in missing:
        if day in have:
            continue
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        # Names and bounds come from a date we formatted ourselves, never from input text.
        conn.execute(text(
            f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF events "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        ))
        created.append(day)
    return created


def ensure_ahead(conn: Connection, today: date, days_ahead: int = 3, days_back: int = 1) -> list[date]:
    """Create partitions around today: the scheduler calls this daily so ingestion rarely creates one."""
    span = range(-days_back, days_ahead + 1)
    return ensure_partitions(conn, (today + timedelta(days=n) for n in span))


def drop_partitions_before(conn: Connection, cutoff: datetime) -> dict[str, int]:
    """Drop every partition that lies wholly before cutoff; returns {name: rows it held}."""
    if conn.dialect.name != "postgresql":
        return {}
    dropped: dict[str, int] = {}
    for day, name in sorted(existing_partitions(conn).items()):
        if datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= cutoff:
            # The name matched events_pYYYYMMDD in the catalog: no input text reaches this SQL.
            dropped[name] = conn.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0  # noqa: S608
            conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
    return dropped


def _utc_day(value: datetime) -> date:
    return value.astimezone(UTC).date()


def days_of(rows: Iterable[Mapping[str, object] | tuple[object, ...]]) -> set[date]:
    """The UTC days of rows given as mappings or as value rows (tuples in EVENT_COLUMNS order)."""
    times = (row[_TIME] if isinstance(row, tuple) else row.get("time") for row in rows)
    return {_utc_day(when) for when in times if isinstance(when, datetime)}


_TIME = EVENT_COLUMNS.index("time")


@event.listens_for(Event, "before_insert")
def _partition_for_orm_insert(_mapper: Mapper[Event], connection: Connection, target: Event) -> None:
    """ORM inserts (session.add(Event(...))) get their day's partition like bulk inserts do."""
    if connection.dialect.name == "postgresql" and target.time is not None:
        ensure_partitions(connection, [_utc_day(target.time)])
