"""Build the traffic report of a period of local days from the store (storage/report_queries.py)."""

from __future__ import annotations

import heapq
import logging
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.orm import Session

from bot.report import messages, rollup
from bot.report.model import Problem, Ranked, RecipientDomain, Report, SendingDomain, Traffic, Waiting
from bot.report.pflog import percent, ranked, relay_host, sending_domain
from bot.timeutil import day_bounds
from storage import report_queries as q

log = logging.getLogger(__name__)

#: outcome (storage.report_queries) -> the per-hour/per-day column it counts in (pflogsumm's table).
_COLUMN = {"received": "received", "delivered": "delivered", "deferred": "deferred", "bounced": "bounced",
           "rejected": "rejected", "reject_warning": "rejected", "held": "rejected", "discarded": "rejected"}
_TOTAL = {"received": "received", "delivered": "delivered", "forwarded": "forwarded", "deferred": "deferrals",
          "bounced": "bounced", "rejected": "rejected", "reject_warning": "reject_warnings", "held": "held",
          "discarded": "discarded", "expired": "expired"}
#: A running ingest moves its cursor at least this often.
INGEST_ACTIVE = timedelta(minutes=2)


def build_report(session: Session, first: date, last: date, zone: ZoneInfo, *, top: int = 10,
                 retention_days: int = 30, now: datetime | None = None, use_rollup: bool = True) -> Report:
    """The report of the local days first..last (inclusive) of `zone`: from the rollup (brought up to date
    first), or from the events where the store cannot be written or `use_rollup` is false."""
    if last < first:
        raise ValueError(messages.bad_period(f"{first} is after {last}"))
    now = now or datetime.now(UTC)
    start, end = day_bounds(first, zone)[0], day_bounds(last, zone)[1]
    report = Report(first=first, last=last, zone=zone.key, start=start, end=end, top=top)
    figures = _figures(session, report, zone, now) if use_rollup else rollup.Live(session, start, end)
    without_received = _traffic(figures, report, zone)
    report.totals.deferred = figures.deferred_messages()
    _senders(session, figures, report, zone, without_received)
    _recipients(figures, report)
    _problems(figures, report)
    report.now = min(end, now)
    report.waiting_total, rows = q.still_deferred(session, report.now, top)
    report.waiting = [Waiting(queue_id=r[0], recipient=r[1], sender=r[2], since=r[3], last=r[4], deferrals=int(r[5]),
                              host=relay_host(r[6]) if r[6] else None, reply=r[7]) for r in rows]
    totals = report.totals
    whole = totals.delivered + totals.rejected + totals.discarded
    totals.rejected_percent, totals.discarded_percent = percent(totals.rejected, whole), percent(totals.discarded,
                                                                                                whole)
    report.notices = _notices(session, report, now, retention_days)
    return report


def _figures(session: Session, report: Report, zone: ZoneInfo, now: datetime) -> rollup.Figures | rollup.Live:
    """The rollup's figures of the period once it counts every event so far; the events themselves when the
    rollup cannot be written (a read replica: PostgreSQL says InternalError, SQLite OperationalError)."""
    days = [report.first + timedelta(days=i) for i in range((report.last - report.first).days + 1)]
    try:
        rollup.refresh(session.get_bind(), zone, days, now=now)
    except (OperationalError, InternalError) as exc:
        log.warning("report: the rollup could not be brought up to date (%s); reading the events instead",
                    str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__)
        return rollup.Live(session, report.start, report.end)
    return rollup.Figures(session, zone, report.first, report.last)


def _traffic(figures: rollup.Figures | rollup.Live, report: Report, zone: ZoneInfo) -> set[str]:
    """The figures by hour and day; returns the sources in the period that have no `received` events."""
    totals = report.totals
    sources: set[str] = set()
    recorded: set[str] = set()
    for bucket, source, outcome, n, size in figures.outcome_buckets():
        sources.add(source)
        if outcome == "received":
            recorded.add(source)
        if outcome in _TOTAL:
            setattr(totals, _TOTAL[outcome], getattr(totals, _TOTAL[outcome]) + n)
        if outcome == "received":
            totals.bytes_received += size
        elif outcome == "delivered":
            totals.bytes_delivered += size
        column = _COLUMN.get(outcome)
        if column is None:
            continue
        local = (report.start + timedelta(hours=bucket)).astimezone(zone)
        report.hours[local.hour].add(column, n)
        report.days.setdefault(local.date(), Traffic()).add(column, n)
    day = report.first
    while day <= report.last:
        report.days.setdefault(day, Traffic())
        day += timedelta(days=1)
    return sources - recorded


def _senders(session: Session, figures: rollup.Figures | rollup.Live, report: Report, zone: ZoneInfo,
             without_received: set[str]) -> None:
    if without_received:
        # messages of sources without `received` events join the rows here, in Python
        rows = figures.received_by_sender()
        for bucket, sender, host, ip, size in q.first_sightings(session, report.start, report.end,
                                                                without_received):
            _count_received(report, zone, bucket, size)
            if size is not None:
                rows.append((sender or "from=<>", sending_domain(sender, host, ip), 1, int(size)))
        ranking = rollup.rank_senders(rows, report.top)
    else:
        ranking = figures.sender_ranking(report.top)
    report.totals.senders, report.totals.sending_domains = ranking.senders, ranking.domains
    report.sending_domains = [SendingDomain(*row) for row in ranking.top_domains]
    report.senders_by_count = [Ranked(*row) for row in ranking.by_count]
    report.senders_by_size = [Ranked(*row) for row in ranking.by_size]


def _count_received(report: Report, zone: ZoneInfo, bucket: int, size: int | None) -> None:
    """A message of a source without `received` events, counted at its first event."""
    report.totals.received += 1
    report.totals.bytes_received += int(size or 0)
    local = (report.start + timedelta(hours=bucket)).astimezone(zone)
    report.hours[local.hour].add("received", 1)
    report.days.setdefault(local.date(), Traffic()).add("received", 1)


def _recipients(figures: rollup.Figures | rollup.Live, report: Report) -> None:
    recipients: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    domains: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for recipient, domain, n, size in figures.delivered_by_recipient():
        for key, table in ((recipient or "<>", recipients), (domain or (recipient or "<>"), domains)):
            table[key][0] += int(n)
            table[key][1] += int(size or 0)
    report.totals.recipients, report.totals.recipient_domains = len(recipients), len(domains)
    report.recipients_by_count = [Ranked(a, n, b) for a, (n, b) in ranked(recipients, 0, report.top)]
    report.recipients_by_size = [Ranked(a, n, b) for a, (n, b) in ranked(recipients, 1, report.top)]
    # domain -> [sent, bytes, deferrals, delay sum, delays measured, max delay]
    table: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0, -1.0])
    for domain, (n, size) in domains.items():
        table[domain][0], table[domain][1] = n, size
    for domain, n in figures.deferrals_by_domain():
        table[domain][2] += n
    ordered = heapq.nsmallest(report.top, table.items(),
                              key=lambda item: (-item[1][0], -item[1][1], -item[1][2], item[0]))
    shown = [domain for domain, _ in ordered]
    for domain, outcome, _n, total, longest, measured in (
            figures.delays_by_domain(shown) if shown else ()):
        row = table[domain]
        if outcome != "deferred":
            row[3] += float(total or 0)
            row[4] += int(measured or 0)
        if longest is not None:
            row[5] = max(row[5], float(longest))
    report.recipient_domains = [
        RecipientDomain(domain, int(r[0]), int(r[1]), int(r[2]), round(r[3] / r[4], 1) if r[4] else None,
                        r[5] if r[5] >= 0 else None)
        for domain, r in ordered]


def _problems(figures: rollup.Figures | rollup.Live, report: Report) -> None:
    grouped: dict[tuple, list] = {}
    for outcome, stage, reason, status, relay, n, example in figures.problems():
        host = relay_host(relay) if outcome in ("deferred", "bounced") else None
        key = (outcome, stage, reason or "undefined", status, host)
        if key in grouped:
            grouped[key][0] += int(n)
        else:
            grouped[key] = [int(n), example]
    problems = [Problem(kind=k[0], stage=k[1], reason=k[2], status=k[3], host=k[4], count=n, example=example)
                for k, (n, example) in grouped.items()]
    problems.sort(key=lambda p: (-p.count, p.kind, p.reason, p.stage or "", p.host or "", p.status or ""))
    report.rejects = [p for p in problems if p.kind in ("rejected", "reject_warning", "held", "discarded")]
    report.deferrals = [p for p in problems if p.kind == "deferred"]
    report.bounces = [p for p in problems if p.kind == "bounced"]


def _notices(session: Session, report: Report, now: datetime, retention_days: int) -> list[str]:
    notices: list[str] = []
    oldest, newest = q.time_range(session)
    if report.start < now - timedelta(days=retention_days):
        notices.append(messages.beyond_retention(report.first, oldest, retention_days))
    if report.end > now:
        notices.append(messages.in_the_future(report.label()))
    if newest is None or newest < min(report.end, now) - INGEST_ACTIVE:
        notices.append(messages.not_ingested_yet(newest))
    moved = q.ingesting_since(session, now - INGEST_ACTIVE)
    if moved is not None:
        notices.append(messages.ingest_running(moved))
    if report.empty:
        notices.append(messages.empty_period(report.label()))
    return notices


__all__ = ["build_report"]
