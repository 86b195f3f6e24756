"""The traffic report's rollup: each local day's figures, counted once, so a day's report reads no raw events.

Every figure is one of storage/report_queries.py's GROUP BYs run on the day's new events (bot/rollups.py finds
them) and its rows upserted into `report_rollup` under a `kind`: counts and bytes are added, delays summed and
maxed, the example reply is the smallest, exactly as the query would combine the two parts. `Figures` reads a
period back in the shape the queries return, so the report is built the same way from either
(tests/report/test_report_rollup.py compares them). Two figures stay live: the messages still deferred (a state
at an instant, over the partial index on deferred events) and the first sightings of sources without
`received` events (a message spans days).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import rollups
from bot.report.pflog import ranked, sending_domain
from bot.rollups import RefreshStats, Spec, Window
from bot.timeutil import day_bounds
from storage import report_queries as q
from storage.models import ReportRollup as R
from storage.models import ReportRollupDay

log = logging.getLogger(__name__)

_KEYS = ("k1", "k2", "k3", "k4", "k5")
_CELL = ("zone", "day", "kind", *_KEYS)


def _cells(kind: str, rows: Iterable[Sequence[Any]], keys: int, measures: Sequence[str]) -> list[dict[str, Any]]:
    """Query rows (keys first, then `measures`) as rollup cells: a missing key is '', missing measures 0."""
    cells = []
    for row in rows:
        cell: dict[str, Any] = {"kind": kind, "n": 0, "bytes": 0, "delay_sum": 0, "delays": 0, "delay_max": None,
                                "example": None}
        for i, name in enumerate(_KEYS):
            cell[name] = "" if i >= keys or row[i] is None else str(row[i])
        for name, value in zip(measures, row[keys:], strict=True):
            cell[name] = value if name in ("delay_max", "example") else int(value or 0)
        cells.append(cell)
    return cells


def _count(conn: Connection, window: Window) -> None:
    """Add the window's events to its day's cells: one query per figure, upserted."""
    start, end, ids = window.start, window.end, (window.lo, window.hi)
    cells = [
        *_cells("traffic", q.outcome_buckets(conn, start, end, ids), 3, ("n", "bytes")),
        *_cells("sender", sender_rows(q.received_by_sender(conn, start, end, ids)), 2, ("n", "bytes")),
        *_cells("recipient", q.delivered_by_recipient(conn, start, end, ids), 2, ("n", "bytes")),
        *_cells("deferral_domain", q.deferrals_by_domain(conn, start, end, ids), 1, ("n",)),
        *_cells("deferred_qid", q.deferrals_by_queue_id(conn, start, end, ids), 1, ("n",)),
        *_cells("delay", q.delays_by_domain(conn, start, end, None, ids=ids), 2,
                ("n", "delay_sum", "delay_max", "delays")),
        *_cells("problem", q.problems(conn, start, end, ids), 5, ("n", "example")),
    ]
    cells = _merged(cells)
    if not cells:
        return
    for cell in cells:
        cell["zone"], cell["day"] = window.zone, window.day
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(R)
    new = insert.excluded
    conn.execute(insert.on_conflict_do_update(index_elements=list(_CELL), set_={
        "n": R.n + new.n, "bytes": R.bytes + new.bytes, "delay_sum": R.delay_sum + new.delay_sum,
        "delays": R.delays + new.delays,
        "delay_max": case((or_(R.delay_max.is_(None), new.delay_max > R.delay_max), new.delay_max),
                          else_=R.delay_max),
        "example": case((or_(R.example.is_(None), new.example < R.example), new.example), else_=R.example),
    }), cells)


def _merged(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One cell per key (NULL and '' are one key here), combined as the upsert combines them: PostgreSQL refuses
    a statement that would update one row twice."""
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for cell in cells:
        key = (cell["kind"], *(cell[k] for k in _KEYS))
        have = merged.get(key)
        if have is None:
            merged[key] = cell
            continue
        for name in ("n", "bytes", "delay_sum", "delays"):
            have[name] += cell[name]
        if cell["delay_max"] is not None and (have["delay_max"] is None or cell["delay_max"] > have["delay_max"]):
            have["delay_max"] = cell["delay_max"]
        if cell["example"] is not None and (have["example"] is None or cell["example"] < have["example"]):
            have["example"] = cell["example"]
    return list(merged.values())


def _clear(conn: Connection, zone: str, day: str) -> int:
    return conn.execute(delete(R).where(R.zone == zone, R.day == day)).rowcount or 0


SPEC = Spec(name="report", state=ReportRollupDay, clear=_clear, count=_count, vacuum="report_rollup")


def refresh(engine: Engine, zone: ZoneInfo, days: Iterable[date], *, now: datetime | None = None) -> RefreshStats:
    """Make the report rollup of `days` (local days of `zone`) count every event committed so far."""
    return rollups.refresh(engine, SPEC, zone, days, now=now)


def purge_before(engine: Engine, before: date) -> int:
    """Drop the report rollup of days before `before` (all zones)."""
    return rollups.purge_before(engine, SPEC, before)


def _none(value: str) -> str | None:
    return value or None


def sender_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[str, str, int, int]]:
    """received_by_sender's rows as (sender as pflogsumm names it, sending domain, messages, bytes)."""
    return [(sender or "from=<>", sending_domain(sender, host, ip), int(n), int(size or 0))
            for sender, _domain, host, ip, n, size in rows]


@dataclass
class SenderRanking:
    """How many senders and sending domains, and the top ones ((name, messages, bytes), pflogsumm's order)."""

    senders: int
    domains: int
    by_count: list[tuple[str, int, int]]
    by_size: list[tuple[str, int, int]]
    top_domains: list[tuple[str, int, int]]


def rank_senders(rows: Iterable[tuple[str, str, int, int]], top: int) -> SenderRanking:
    """The ranking of `sender_rows`-shaped rows, counted in Python."""
    senders: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    domains: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sender, domain, n, size in rows:
        for key, table in ((sender, senders), (domain, domains)):
            table[key][0] += n
            table[key][1] += size
    return SenderRanking(len(senders), len(domains),
                         [(a, n, b) for a, (n, b) in ranked(senders, 0, top)],
                         [(a, n, b) for a, (n, b) in ranked(senders, 1, top)],
                         [(d, n, b) for d, (n, b) in ranked(domains, 0, top)])


class Figures:
    """A period's figures read from the rollup, in the shapes of storage/report_queries.py's functions."""

    def __init__(self, session: Session, zone: ZoneInfo, first: date, last: date) -> None:
        self.session, self.zone = session, zone.key
        self.days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
        self.start = day_bounds(first, zone)[0]
        #: hours from the period's start to each day's local midnight
        self.offsets = {d: int((day_bounds(date.fromisoformat(d), zone)[0] - self.start).total_seconds()) // 3600
                        for d in self.days}

    def _where(self, kind: str) -> Any:
        return and_(R.zone == self.zone, R.day.in_(self.days), R.kind == kind)

    def _grouped(self, kind: str, keys: int, *measures: Any) -> list[tuple[Any, ...]]:
        columns = [getattr(R, k) for k in _KEYS[:keys]]
        stmt = select(*columns, *measures).where(self._where(kind)).group_by(*columns)
        return [tuple(row) for row in self.session.execute(stmt)]

    def outcome_buckets(self) -> list[tuple[int, str, str, int, int]]:
        stmt = (select(R.day, R.k1, R.k2, R.k3, func.sum(R.n), func.sum(R.bytes)).where(self._where("traffic"))
                .group_by(R.day, R.k1, R.k2, R.k3))
        return [(self.offsets[day] + int(hour), source, outcome, int(n), int(size))
                for day, hour, source, outcome, n, size in self.session.execute(stmt)]

    def deferred_messages(self) -> int:
        with_id, without = self.session.execute(
            select(func.count(func.distinct(case((R.k1 != "", R.k1)))),
                   func.coalesce(func.sum(case((R.k1 == "", R.n), else_=0)), 0))
            .where(self._where("deferred_qid"))).one()
        return int(with_id or 0) + int(without or 0)

    def received_by_sender(self) -> list[tuple[str, str, int, int]]:
        return [(sender, domain, int(n), int(size))
                for sender, domain, n, size in self._grouped("sender", 2, func.sum(R.n), func.sum(R.bytes))]

    def sender_ranking(self, top: int) -> SenderRanking:
        """Counted and ranked by the database: a busy day has as many senders as messages, nearly."""
        senders, domains = self.session.execute(
            select(func.count(func.distinct(R.k1)), func.count(func.distinct(R.k2))).where(self._where("sender"))).one()
        return SenderRanking(int(senders), int(domains), self._top(R.k1, 0, top), self._top(R.k1, 1, top),
                             self._top(R.k2, 0, top))

    def _top(self, key: Any, by: int, top: int) -> list[tuple[str, int, int]]:
        """pflogsumm's order (rank.ranked) in SQL: names compared by code point, as Python does."""
        n, size = func.sum(R.n), func.sum(R.bytes)
        figures = (n, size) if by == 0 else (size, n)
        name = key.collate("C") if self.session.get_bind().dialect.name == "postgresql" else key
        stmt = (select(key, n, size).where(self._where("sender")).group_by(key)
                .order_by(figures[0].desc(), figures[1].desc(), name).limit(top))
        return [(k, int(a), int(b)) for k, a, b in self.session.execute(stmt)]

    def delivered_by_recipient(self) -> list[tuple[Any, ...]]:
        return [(_none(r), _none(d), int(n), int(b))
                for r, d, n, b in self._grouped("recipient", 2, func.sum(R.n), func.sum(R.bytes))]

    def deferrals_by_domain(self) -> list[tuple[str, int]]:
        return [(domain, int(n)) for domain, n in self._grouped("deferral_domain", 1, func.sum(R.n))]

    def delays_by_domain(self, domains: list[str]) -> list[tuple[Any, ...]]:
        stmt = (select(R.k1, R.k2, func.sum(R.n), func.sum(R.delay_sum), func.max(R.delay_max), func.sum(R.delays))
                .where(self._where("delay"), R.k1.in_(domains)).group_by(R.k1, R.k2))
        return [(domain, outcome, int(n), int(total) if measured else None, longest, int(measured))
                for domain, outcome, n, total, longest, measured in self.session.execute(stmt)]

    def problems(self) -> list[tuple[Any, ...]]:
        return [(outcome, *map(_none, (stage, reason, status, relay)), int(n), example)
                for outcome, stage, reason, status, relay, n, example
                in self._grouped("problem", 5, func.sum(R.n), func.min(R.example))]


class Live:
    """The same figures straight from the events (no rollup: a store that cannot be written, and the reference the
    rollup is tested against)."""

    def __init__(self, session: Session, start: datetime, end: datetime) -> None:
        self.session, self.start, self.end = session, start, end

    def outcome_buckets(self) -> list[tuple[int, str, str, int, int]]:
        return q.outcome_buckets(self.session, self.start, self.end)

    def deferred_messages(self) -> int:
        return q.deferred_messages(self.session, self.start, self.end)

    def received_by_sender(self) -> list[tuple[str, str, int, int]]:
        return sender_rows(q.received_by_sender(self.session, self.start, self.end))

    def sender_ranking(self, top: int) -> SenderRanking:
        return rank_senders(self.received_by_sender(), top)

    def delivered_by_recipient(self) -> list[tuple[Any, ...]]:
        return q.delivered_by_recipient(self.session, self.start, self.end)

    def deferrals_by_domain(self) -> list[tuple[str, int]]:
        return q.deferrals_by_domain(self.session, self.start, self.end)

    def delays_by_domain(self, domains: list[str]) -> list[tuple[Any, ...]]:
        return q.delays_by_domain(self.session, self.start, self.end, domains)

    def problems(self) -> list[tuple[Any, ...]]:
        return q.problems(self.session, self.start, self.end)


__all__ = ["SPEC", "Figures", "Live", "SenderRanking", "purge_before", "rank_senders", "refresh", "sender_rows"]
