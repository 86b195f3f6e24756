"""Per-local-day rollups of the event table (the digest's, the report's): built once, then topped up by event id.

A day is built once in full (its events found through the time index); later it only gets the events that
arrived since (ids above its `built_through_id`, found through the primary key) added. Which days got new events
is found with one GROUP BY over the new ids by UTC hour, so a refresh costs about the number of new events, not
the size of the window. Each rollup is a `Spec`: its state table (zone, day, built_through_id, events, built_at)
and how a day's rows are cleared and counted; this module owns the bookkeeping they share.

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

from bot.timeutil import day_bounds, local_day
from storage.models import Event
from storage.types import UTCDateTime

log = logging.getLogger(__name__)

#: Seconds since the epoch of a time column, per dialect (SQL text; the column name is substituted).
EPOCH = {
    "sqlite": "CAST(strftime('%s', {t}) AS INTEGER)",
    "postgresql": "CAST(floor(extract(epoch FROM {t})) AS BIGINT)",
}


@dataclass(frozen=True)
class Window:
    """The events one build step counts into one local day: time in [start, end), id in (lo, hi] (lo -1: all)."""

    zone: str
    day: str
    start: datetime
    end: datetime
    lo: int
    hi: int

    @property
    def incremental(self) -> bool:
        return self.lo >= 0


@dataclass(frozen=True)
class Spec:
    """One rollup: its state model and how a day's rows are cleared and counted."""

    name: str
    state: Any  # a model with zone, day, built_through_id, events, built_at (unique zone + day)
    clear: Callable[[Connection, str, str], int]  # (conn, zone, day) -> rows removed
    count: Callable[[Connection, Window], None]  # add the window's events to the day's rows
    vacuum: str | None = None  # PostgreSQL: the table to VACUUM (ANALYZE) after full builds


@dataclass
class RefreshStats:
    """What a refresh did, for logs and the benchmark."""

    built: list[str] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)
    clean: int = 0
    watermark: int = 0


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
        log.warning("rollup: no SHARE lock on events (%s); using max(id)", type(exc.orig).__name__)
        with engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)


def window_sql(window: Window, dialect: str) -> str:
    """The WHERE text selecting a window's events (parameters :start :end :lo :hi): through the time index for a
    full build, the primary key for new ids (SQLite: a unary + keeps the planner off the other index)."""
    plus = "+" if dialect == "sqlite" else ""
    if window.incremental:
        return f"id > :lo AND id <= :hi AND {plus}time >= :start AND {plus}time < :end"
    return f"time >= :start AND time < :end AND {plus}id <= :hi"


def _insert(conn: Connection) -> Callable[..., Any]:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _ensure_states(engine: Engine, spec: Spec, zone: str, days: list[str], now: datetime) -> dict[str, int]:
    state = spec.state
    with engine.begin() as conn:
        conn.execute(
            _insert(conn)(state).on_conflict_do_nothing(index_elements=["zone", "day"]),
            [{"zone": zone, "day": d, "built_through_id": -1, "events": 0, "built_at": now} for d in days],
        )
        rows = conn.execute(select(state.day, state.built_through_id).where(state.zone == zone, state.day.in_(days)))
        return {day: built for day, built in rows}


def _dirty_days(engine: Engine, zone: ZoneInfo, lo: int, hi: int) -> dict[str, int]:
    """{local day: highest new id in it} for the events with lo < id <= hi, via one GROUP BY by UTC hour."""
    epoch = EPOCH[engine.dialect.name].format(t="time")
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


def _counted(conn: Connection, window: Window) -> int:
    sql = f"SELECT COUNT(*) FROM events WHERE {window_sql(window, conn.dialect.name)}"  # noqa: S608
    return int(conn.execute(bound(sql), params(window)).scalar() or 0)


def bound(sql: str) -> TextClause:
    """The statement with its time parameters typed like Event.time (naive UTC text on SQLite)."""
    return text(sql).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))


def params(window: Window) -> dict[str, Any]:
    """The window as statement parameters (start_epoch: local midnight, for hour offsets)."""
    return {"zone": window.zone, "day": window.day, "start": window.start, "end": window.end, "lo": window.lo,
            "hi": window.hi, "start_epoch": int(window.start.timestamp())}


def _build_day(engine: Engine, spec: Spec, zone: ZoneInfo, day: str, hi: int,
               now: datetime) -> tuple[str, int] | None:
    """Bring one day up to `hi` under its state row's lock; returns ('built'|'added', events) or None."""
    start, end = day_bounds(date.fromisoformat(day), zone)
    state = spec.state
    mine = (state.zone == zone.key) & (state.day == day)
    with engine.begin() as conn:
        # a no-op UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before we read the state
        conn.execute(update(state).where(mine).values(built_at=state.built_at))
        built = conn.scalar(select(state.built_through_id).where(mine))
        if built is None or built >= hi:
            return None
        window = Window(zone.key, day, start, end, built, hi)
        if not window.incremental:
            spec.clear(conn, zone.key, day)
        spec.count(conn, window)
        counted = _counted(conn, window)
        conn.execute(update(state).where(mine).values(
            built_through_id=hi, built_at=now,
            events=(state.events + counted) if window.incremental else counted))
    return ("added" if window.incremental else "built"), counted


def refresh(engine: Engine, spec: Spec, zone: ZoneInfo, days: Iterable[date], *,
            now: datetime | None = None) -> RefreshStats:
    """Make `spec`'s rollup of `days` (local days of `zone`) count every event committed so far."""
    now = now or datetime.now(UTC)
    wanted = sorted({d.isoformat() for d in days})
    stats = RefreshStats()
    if not wanted:
        return stats
    hi = stats.watermark = watermark(engine)
    states = _ensure_states(engine, spec, zone.key, wanted, now)
    built = {d: b for d, b in states.items() if b >= 0}
    dirty: dict[str, int] = {}
    if built and min(built.values()) < hi:
        dirty = _dirty_days(engine, zone, min(built.values()), hi)
    clean: list[str] = []
    for day in wanted:
        if day in built and dirty.get(day, -1) <= built[day]:
            clean.append(day)
            continue
        outcome = _build_day(engine, spec, zone, day, hi, now)
        if outcome is None:
            continue
        what, counted = outcome
        if what == "built":
            stats.built.append(day)
        else:
            stats.added[day] = counted
    if stats.built and spec.vacuum and engine.dialect.name == "postgresql":
        # fresh statistics and visibility map (index-only scans), or the planner may scan the whole rollup;
        # autovacuum would get there too, later
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (ANALYZE) {spec.vacuum}"))
    if clean:
        # nothing new in these days up to hi: move their watermark so the next dirty scan starts from hi
        state = spec.state
        with engine.begin() as conn:
            conn.execute(update(state)
                         .where(state.zone == zone.key, state.day.in_(clean),
                                state.built_through_id >= 0, state.built_through_id < hi)
                         .values(built_through_id=hi))
        stats.clean = len(clean)
    return stats


def purge_before(engine: Engine, spec: Spec, before: date) -> int:
    """Drop `spec`'s rollup of days before `before` (all zones): old days are found in the small state table."""
    cutoff = before.isoformat()
    removed = 0
    state = spec.state
    with engine.begin() as conn:
        for zone, day in conn.execute(select(state.zone, state.day).where(state.day < cutoff)).all():
            removed += spec.clear(conn, zone, day)
        conn.execute(delete(state).where(state.day < cutoff))
    return removed


__all__ = ["EPOCH", "RefreshStats", "Spec", "Window", "bound", "params", "purge_before", "refresh", "watermark",
           "window_sql"]
