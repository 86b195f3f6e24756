"""The digest's daily rollup: events counted per local day and dimension, built incrementally.

A day is built once in full (one GROUP BY per dimension over that day's events, found through the time
index); later it only gets the events that arrived since (ids above its `built_through_id`, found through the
primary key) added with an upsert. Which days got new events is found with one GROUP BY over the new ids by
UTC hour, so a refresh costs about the number of new events, not the size of the window.

Ids are a safe watermark: SQLite serializes writers, and on PostgreSQL the newest id is read under a brief
SHARE lock on events, which waits for inserting transactions to commit, so no lower id can appear later.
Concurrent refreshes (several bot instances) serialize on the day's state row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, TextClause, bindparam, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from bot.digest.period import day_bounds, local_day
from storage.models import DigestRollup, DigestRollupDay, Event
from storage.types import UTCDateTime

log = logging.getLogger(__name__)

BLOCKED = ("rejected", "quarantined", "deleted")   # our gateway refused or held it
BOUNCED = ("bounced", "expired")                    # a server downstream refused it for good
ACCEPTED = ("delivered", "accepted")                # got through: the baseline for false positives

_EPOCH = {
    "sqlite": "CAST(strftime('%s', {t}) AS INTEGER)",
    "postgresql": "CAST(floor(extract(epoch FROM {t})) AS BIGINT)",
}


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants of this module only, never user input


#: kind -> (key expression, which events count). Keys are lowercase already (TrackingEvent.as_row).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "total": ("''", "1 = 1"),
    "hour": ("CAST(({epoch} - :start_epoch) / 3600 AS VARCHAR(8))", "1 = 1"),
    "sender": ("COALESCE(sender, '<>')",
               f"(disposition IN ({_quoted(BLOCKED)}) OR (direction = 'inbound'"
               f" AND disposition IN ({_quoted(ACCEPTED)})))"),
    "domain": ("sender_domain",
               f"sender_domain IS NOT NULL AND (disposition IN ({_quoted(BLOCKED)}) OR (direction = 'inbound'"
               f" AND disposition IN ({_quoted(ACCEPTED)})))"),
    "ip": ("client_ip", f"client_ip IS NOT NULL AND disposition IN ({_quoted(BLOCKED)})"),
    "recipient": ("recipient",
                  f"recipient IS NOT NULL AND direction = 'inbound' AND cause = 'invalid_recipient'"
                  f" AND disposition IN ({_quoted(BLOCKED + BOUNCED)})"),
    "remote_domain": ("recipient_domain",
                      f"recipient_domain IS NOT NULL AND direction = 'outbound'"
                      f" AND disposition IN ({_quoted(BOUNCED)})"),
}
#: Compact twins of the big dimensions: one row per key, direction and disposition (no cause, no reason), so
#: the top lists and the false-positive probes read a few times fewer rows; the detailed kind still gives
#: the main reason of the few keys shown.
COMPACT = {"sender": "sender_n", "domain": "domain_n", "ip": "ip_n"}
DIMENSIONS.update({compact: DIMENSIONS[kind] for kind, compact in COMPACT.items()})
_NO_REASON = {"hour"}  # per-hour rows keep the cause only: the chart needs no more
_NO_CAUSE = set(COMPACT.values())
_CELL = ("zone", "day", "kind", "key", "direction", "disposition", "cause", "reason")


@dataclass
class RefreshStats:
    """What a refresh did, for logs and the benchmark."""

    built: list[str] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)
    clean: int = 0
    watermark: int = 0


def _day_sql(dialect: str, kind: str, *, incremental: bool) -> str:
    key, where = DIMENSIONS[kind]
    epoch = _EPOCH[dialect].format(t="time")
    key = key.format(epoch=epoch)
    reason = "''" if kind in _NO_REASON | _NO_CAUSE else "COALESCE(reason, '')"
    cause = "''" if kind in _NO_CAUSE else "COALESCE(cause, '')"
    # SQLite: a unary + keeps the planner off the index we do not want (time for new ids, id for a full day).
    plus = "+" if dialect == "sqlite" else ""
    if incremental:
        window = f"id > :lo AND id <= :hi AND {plus}time >= :start AND {plus}time < :end"
    else:
        window = f"time >= :start AND time < :end AND {plus}id <= :hi"
    # by output position (4 key ... 8 reason): PostgreSQL takes neither constants nor a repeated parameter there
    groups = [str(i) for i, expr in ((4, key), (5, "d"), (6, "d"), (7, cause), (8, reason)) if expr != "''"]
    # S608: assembled from this module's constants only; every value is a bound parameter
    return (
        f"INSERT INTO digest_rollup ({', '.join(_CELL)}, count) "  # noqa: S608
        f"SELECT :zone, :day, '{kind}', {key}, direction, disposition, {cause}, {reason}, COUNT(*) "
        f"FROM events WHERE {window} AND {where} "
        f"GROUP BY {', '.join(groups)} "
        f"ON CONFLICT ({', '.join(_CELL)}) DO UPDATE SET count = digest_rollup.count + excluded.count"
    )


def _bind(sql: str) -> TextClause:
    """The statement with its time parameters typed like Event.time (naive UTC text on SQLite)."""
    return text(sql).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))


def _count_sql(incremental: bool, dialect: str) -> str:
    plus = "+" if dialect == "sqlite" else ""
    if incremental:
        window = f"id > :lo AND id <= :hi AND {plus}time >= :start AND {plus}time < :end"
    else:
        window = f"time >= :start AND time < :end AND {plus}id <= :hi"
    return f"SELECT COUNT(*) FROM events WHERE {window}"  # noqa: S608 - constants only


def watermark(engine: Engine) -> int:
    """The highest event id below which every event is committed (0 for an empty store)."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text("LOCK TABLE events IN SHARE MODE"))
            return int(conn.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)
    except OperationalError as exc:
        # Ingestion held the table longer than the timeout: use the plain maximum; the next refresh
        # re-reads from the older watermark of the days it did not change.
        log.warning("digest rollup: no SHARE lock on events (%s); using max(id)", type(exc.orig).__name__)
        with engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)


def _dialect_insert(conn: Connection) -> Callable[..., Any]:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _ensure_states(engine: Engine, zone: str, days: list[str], now: datetime) -> dict[str, int]:
    with engine.begin() as conn:
        insert = _dialect_insert(conn)
        conn.execute(
            insert(DigestRollupDay).on_conflict_do_nothing(index_elements=["zone", "day"]),
            [{"zone": zone, "day": d, "built_through_id": -1, "events": 0, "built_at": now} for d in days],
        )
        rows = conn.execute(select(DigestRollupDay.day, DigestRollupDay.built_through_id)
                            .where(DigestRollupDay.zone == zone, DigestRollupDay.day.in_(days)))
        return {day: built for day, built in rows}


def _dirty_days(engine: Engine, zone: ZoneInfo, lo: int, hi: int) -> dict[str, int]:
    """{local day: highest new id in it} for the events with lo < id <= hi, via one GROUP BY by UTC hour."""
    epoch = _EPOCH[engine.dialect.name].format(t="time")
    sql = text(f"SELECT {epoch} / 3600 AS h, MAX(id) FROM events "  # noqa: S608 - constants only
               f"WHERE id > :lo AND id <= :hi GROUP BY {epoch} / 3600")
    dirty: dict[str, int] = {}
    with engine.connect() as conn:
        for hour, top in conn.execute(sql, {"lo": lo, "hi": hi}):
            begin = datetime.fromtimestamp(int(hour) * 3600, UTC)
            # an hour may straddle two local days in zones with half-hour offsets: mark both
            for instant in (begin, begin + timedelta(seconds=3599)):
                day = local_day(instant, zone).isoformat()
                dirty[day] = max(dirty.get(day, 0), int(top))
    return dirty


def _build_day(engine: Engine, zone: ZoneInfo, day: str, hi: int, now: datetime) -> tuple[str, int] | None:
    """Bring one day up to `hi` under its state row's lock; returns ('built'|'added', events) or None."""
    start, end = day_bounds(date.fromisoformat(day), zone)
    params = {"zone": zone.key, "day": day, "start": start, "end": end, "hi": hi,
              "start_epoch": int(start.timestamp())}
    state = DigestRollupDay
    mine = (state.zone == zone.key) & (state.day == day)
    with engine.begin() as conn:
        # a no-op UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before we read the state
        conn.execute(update(state).where(mine).values(built_at=state.built_at))
        built = conn.scalar(select(state.built_through_id).where(mine))
        if built is None or built >= hi:
            return None
        incremental = built >= 0
        params["lo"] = built
        if not incremental:
            conn.execute(delete(DigestRollup).where(DigestRollup.zone == zone.key,
                                                    DigestRollup.kind.in_(list(DIMENSIONS)), DigestRollup.day == day))
        dialect = conn.dialect.name
        for kind in DIMENSIONS:
            conn.execute(_bind(_day_sql(dialect, kind, incremental=incremental)), params)
        counted = int(conn.execute(_bind(_count_sql(incremental, dialect)), params).scalar() or 0)
        conn.execute(update(state).where(mine).values(
            built_through_id=hi, built_at=now,
            events=(state.events + counted) if incremental else counted))
    return ("added" if incremental else "built"), counted


def refresh(engine: Engine, zone: ZoneInfo, days: Iterable[date], *, now: datetime | None = None) -> RefreshStats:
    """Make the rollup of `days` (local days of `zone`) count every event committed so far."""
    now = now or datetime.now(UTC)
    wanted = sorted({d.isoformat() for d in days})
    stats = RefreshStats()
    if not wanted:
        return stats
    hi = stats.watermark = watermark(engine)
    states = _ensure_states(engine, zone.key, wanted, now)
    built = {d: b for d, b in states.items() if b >= 0}
    dirty: dict[str, int] = {}
    if built and min(built.values()) < hi:
        dirty = _dirty_days(engine, zone, min(built.values()), hi)
    clean: list[str] = []
    for day in wanted:
        if day in built and dirty.get(day, -1) <= built[day]:
            clean.append(day)
            continue
        outcome = _build_day(engine, zone, day, hi, now)
        if outcome is None:
            continue
        what, counted = outcome
        if what == "built":
            stats.built.append(day)
        else:
            stats.added[day] = counted
    if stats.built and engine.dialect.name == "postgresql":
        # fresh statistics and visibility map (index-only scans), or the planner turns the false-positive
        # probes into scans of the whole rollup; autovacuum would get there too, later
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) digest_rollup"))
    if clean:
        # nothing new in these days up to hi: move their watermark so the next dirty scan starts from hi
        with engine.begin() as conn:
            conn.execute(update(DigestRollupDay)
                         .where(DigestRollupDay.zone == zone.key, DigestRollupDay.day.in_(clean),
                                DigestRollupDay.built_through_id >= 0, DigestRollupDay.built_through_id < hi)
                         .values(built_through_id=hi))
        stats.clean = len(clean)
    return stats


def purge_before(engine: Engine, before: date) -> int:
    """Drop the rollup of days before `before` (all zones); the scheduler's rollup job calls this.

    Old days are found in the small state table, then removed through the rollup's (zone, kind, day) index.
    """
    cutoff = before.isoformat()
    removed = 0
    with engine.begin() as conn:
        old = conn.execute(select(DigestRollupDay.zone, DigestRollupDay.day).where(DigestRollupDay.day < cutoff))
        for zone, day in old.all():
            removed += conn.execute(delete(DigestRollup).where(
                DigestRollup.zone == zone, DigestRollup.kind.in_(list(DIMENSIONS)), DigestRollup.day == day,
            )).rowcount or 0
        conn.execute(delete(DigestRollupDay).where(DigestRollupDay.day < cutoff))
    return removed
