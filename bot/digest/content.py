"""What a digest says, computed from the rollup only: totals, causes, top senders, likely false positives...

`compute_digest` refreshes the rollup for the days it needs (the period, the comparison days, the 14-day trend
and the false-positive look-back), then runs a handful of GROUP BY queries on it. It never reads raw events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from bot.digest import rollup
from bot.digest.ipstatus import IpStatusReport
from bot.digest.period import Period
from bot.ingest.tmems_health import source_health_lines
from bot.store import Store
from bot.timeutil import day_bounds
from storage.models import DigestRollup as R

TOP_N = 5                 # top senders, domains, IPs (each gets a "Why?" button)
LIST_N = 10               # invalid recipients, outbound bounces by remote domain, likely false positives
TREND_DAYS = 14
LOOKBACK_DAYS = 14        # "had mail accepted in the previous weeks", and "newly": not blocked in them
UNUSUAL_RATIO = 1.5       # a total above 1.5 x its average (and by more than UNUSUAL_MIN) is worth a word
UNUSUAL_MIN = 20
WORK_MEM = "64MB"         # PostgreSQL, for the digest's transaction only
CHUNK = 5000              # keys per IN (...) list: under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Totals:
    current: int
    previous: int       # the period before
    average: float      # per period, over the baseline periods before
    baseline_periods: int
    history_days: int = 0   # days before the period (in the baseline) with any traffic at all

    @property
    def comparable(self) -> bool:
        """There is something to compare with: the store had traffic on an earlier day of the baseline."""
        return self.history_days > 0

    @property
    def unusual(self) -> bool:
        return self.current > self.average * UNUSUAL_RATIO and self.current - self.average > UNUSUAL_MIN


@dataclass(frozen=True)
class TopItem:
    """A sender, domain, IP, recipient or remote domain with its count and its most frequent reason."""

    kind: str           # address | domain | ip | recipient | recipient_domain (bot.targets kinds)
    value: str
    count: int
    reason: str
    cause: str
    accepted_before: int = 0   # false positives: mail accepted from it in the look-back


@dataclass
class Digest:
    zone: str
    period: Period
    generated_at: datetime
    hours_in_period: float
    blocked: Totals
    bounced: Totals
    accepted: int
    by_cause: list[tuple[str, int]]
    by_reason: list[tuple[str, int]]
    top_senders: list[TopItem]
    top_domains: list[TopItem]
    top_ips: list[TopItem]
    false_positives: list[TopItem]
    invalid_recipients: list[TopItem]
    outbound_bounces: list[TopItem]
    chart_buckets: list[tuple[str, dict[str, int]]]   # (label, {cause: blocked}) per hour (or per day)
    trend: list[tuple[date, int, int]]                 # (day, blocked, bounced) over TREND_DAYS
    ip_status: IpStatusReport = field(default_factory=IpStatusReport)
    sources: list[str] = field(default_factory=list)  # log sources' health (bot.ingest.tmems_health)

    @property
    def empty(self) -> bool:
        """No blocked and no bounced mail in the period: the only day that gets the short message."""
        return self.blocked.current == 0 and self.bounced.current == 0

    @property
    def quiet(self) -> bool:
        """Nothing unusual: ordinary totals, no likely false positive, no listing or change of our IPs.

        A quiet day with blocked traffic still lists it all; "quiet" is one line among the sections."""
        return not (self.blocked.unusual or self.bounced.unusual or self.false_positives
                    or self.ip_status.listed or self.ip_status.changes)

    def to_json(self) -> dict[str, Any]:
        def items(rows: list[TopItem]) -> list[dict[str, Any]]:
            return [vars(r).copy() for r in rows]
        return {
            "zone": self.zone, "first_day": self.period.first.isoformat(), "last_day": self.period.last.isoformat(),
            "hours": self.hours_in_period, "generated_at": self.generated_at.isoformat(), "quiet": self.quiet,
            "empty": self.empty,
            "blocked": vars(self.blocked).copy(), "bounced": vars(self.bounced).copy(), "accepted": self.accepted,
            "by_cause": dict(self.by_cause), "by_reason": dict(self.by_reason),
            "top_senders": items(self.top_senders), "top_domains": items(self.top_domains),
            "top_ips": items(self.top_ips), "false_positives": items(self.false_positives),
            "invalid_recipients": items(self.invalid_recipients), "outbound_bounces": items(self.outbound_bounces),
            "chart": [{"label": label, "causes": causes} for label, causes in self.chart_buckets],
            "trend": [{"day": d.isoformat(), "blocked": b, "bounced": x} for d, b, x in self.trend],
            "outbound_ips": self.ip_status.to_json(),
        }


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def needed_days(period: Period) -> list[date]:
    """Every local day the digest of `period` reads: comparison, baseline, trend and look-back."""
    baseline = baseline_periods(period)
    earliest = min(period.shifted(-baseline).first, period.last - timedelta(days=TREND_DAYS - 1),
                   period.first - timedelta(days=LOOKBACK_DAYS))
    return _days(earliest, period.last)


def baseline_periods(period: Period) -> int:
    """How many earlier periods the average uses: 7 days for a daily digest, 4 weeks for a weekly one."""
    return max(1, min(7, 28 // period.days))


class _Q:
    """The rollup queries of one digest: zone and day range bound once."""

    def __init__(self, session: Session, zone: str, period: Period) -> None:
        self.session, self.zone, self.period = session, zone, period
        self.first, self.last = period.first.isoformat(), period.last.isoformat()

    def where(self, kind: str, dispositions: tuple[str, ...], first: str | None = None,
              last: str | None = None) -> Any:
        return and_(R.zone == self.zone, R.kind == kind, R.day >= (first or self.first),
                    R.day <= (last or self.last), R.disposition.in_(dispositions))

    def top(self, kind: str, dispositions: tuple[str, ...], limit: int, *extra: Any) -> list[tuple[str, int]]:
        total = func.sum(R.count).label("n")
        stmt = (select(R.key, total).where(self.where(rollup.COMPACT.get(kind, kind), dispositions), *extra)
                .group_by(R.key).order_by(total.desc(), R.key).limit(limit))
        return [(key, int(n)) for key, n in self.session.execute(stmt)]

    def main_reasons(self, kind: str, dispositions: tuple[str, ...], keys: list[str]) -> dict[str, tuple[str, str]]:
        """{key: (reason, cause)} with the most events for each key."""
        if not keys:
            return {}
        total = func.sum(R.count).label("n")
        stmt = (select(R.key, R.reason, R.cause, total).where(self.where(kind, dispositions), R.key.in_(keys))
                .group_by(R.key, R.reason, R.cause))
        best: dict[str, tuple[int, str, str]] = {}
        for key, reason, cause, n in self.session.execute(stmt):
            current = best.get(key)
            if current is None or (int(n), reason) > (current[0], current[1]):
                best[key] = (int(n), reason, cause)
        return {key: (reason or "undefined", cause or "unknown") for key, (_, reason, cause) in best.items()}

    def items(self, kind: str, target_kind: str, dispositions: tuple[str, ...], limit: int,
              *extra: Any) -> list[TopItem]:
        rows = self.top(kind, dispositions, limit, *extra)
        reasons = self.main_reasons(kind, dispositions, [k for k, _ in rows])
        return [TopItem(target_kind, key, n, *reasons.get(key, ("undefined", "unknown"))) for key, n in rows]


def _totals_by_day(q: _Q, first: date, last: date) -> dict[date, dict[str, int]]:
    stmt: Select[Any] = (select(R.day, R.disposition, func.sum(R.count))
                         .where(R.zone == q.zone, R.kind == "total", R.day >= first.isoformat(),
                                R.day <= last.isoformat())
                         .group_by(R.day, R.disposition))
    out: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, disposition, n in q.session.execute(stmt):
        out[date.fromisoformat(day)][_outcome(disposition)] += int(n)
    return out


def _outcome(disposition: str) -> str:
    if disposition in rollup.BLOCKED:
        return "blocked"
    if disposition in rollup.BOUNCED:
        return "bounced"
    if disposition in rollup.ACCEPTED:
        return "accepted"
    return "other"


def _sum(by_day: dict[date, dict[str, int]], period: Period, outcome: str) -> int:
    return sum(by_day.get(d, {}).get(outcome, 0) for d in period.day_list())


def _totals(by_day: dict[date, dict[str, int]], period: Period, outcome: str) -> Totals:
    k = baseline_periods(period)
    earlier = [_sum(by_day, period.shifted(-i), outcome) for i in range(1, k + 1)]
    baseline_days = [d for i in range(1, k + 1) for d in period.shifted(-i).day_list()]
    history = sum(1 for d in baseline_days if any(by_day.get(d, {}).values()))
    return Totals(_sum(by_day, period, outcome), earlier[0], sum(earlier) / k, k, history)


def _breakdown(q: _Q) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Counts of blocked and bounced mail by cause and by reason, largest first."""
    stmt = (select(R.cause, R.reason, func.sum(R.count))
            .where(q.where("total", rollup.BLOCKED + rollup.BOUNCED)).group_by(R.cause, R.reason))
    causes: dict[str, int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    for cause, reason, n in q.session.execute(stmt):
        causes[cause or "unknown"] += int(n)
        reasons[reason or "undefined"] += int(n)
    order = lambda d: sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))  # noqa: E731
    return order(causes), order(reasons)


def _seen_before(q: _Q, kind: str, key: Any, dispositions: tuple[str, ...], inbound_only: bool) -> Any:
    """EXISTS a rollup row of `kind` for `key` in the look-back with one of `dispositions`."""
    look_first = (q.period.first - timedelta(days=LOOKBACK_DAYS)).isoformat()
    look_last = (q.period.first - timedelta(days=1)).isoformat()
    before = aliased(R)
    cond = [before.zone == q.zone, before.kind == kind, before.key == key, before.day >= look_first,
            before.day <= look_last, before.disposition.in_(dispositions)]
    if inbound_only:
        cond.append(before.direction == "inbound")
    return exists(select(before.key).where(*cond))


def _domain_of(q: _Q, key: Any) -> Any:
    """The domain part of an address key, in SQL."""
    if q.session.get_bind().dialect.name == "postgresql":
        return func.split_part(key, "@", 2)
    return func.substr(key, func.instr(key, "@") + 1)


def _blocked_keys(q: _Q, kind: str, *, domains: list[str] | None = None, keys: list[str] | None = None) -> Any:
    """The period's blocked keys of (compact) `kind` with their sums, as a subquery; with `domains`, only
    addresses in those domains; with `keys`, only those keys."""
    cond = [q.where(kind, rollup.BLOCKED), R.key != "<>"]
    if domains is not None:
        cond.append(_domain_of(q, R.key).in_(domains))
    if keys is not None:
        cond.append(R.key.in_(keys))
    return select(R.key.label("key"), func.sum(R.count).label("n")).where(*cond).group_by(R.key).subquery("b")


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(keys), CHUNK):
        yield keys[i:i + CHUNK]


def _newly_blocked(q: _Q, kind: str, keys: list[str] | None = None) -> list[tuple[str, int]]:
    """Blocked in the period (all keys, or only `keys`), not blocked in the look-back, mail accepted in it.

    Over all keys the planners hash-join the look-back's rows once; a short list of `keys` is given as
    IN (...) lists, which they probe key by key in the covering index (zone, kind, key, day, disposition,
    direction) - a count they can estimate, unlike a filter on an expression.
    """
    rows: list[tuple[str, int]] = []
    for chunk in (_chunks(keys) if keys is not None else [None]):
        blocked = _blocked_keys(q, kind, keys=chunk)
        stmt = (select(blocked.c.key, blocked.c.n)
                .where(~_seen_before(q, kind, blocked.c.key, rollup.BLOCKED, False),
                       _seen_before(q, kind, blocked.c.key, rollup.ACCEPTED, True))
                .order_by(blocked.c.n.desc(), blocked.c.key).limit(LIST_N))
        rows += [(key, int(n)) for key, n in q.session.execute(stmt)]
    return sorted(rows, key=lambda kv: (-kv[1], kv[0]))[:LIST_N]


def _blocked_list(q: _Q, kind: str, domains: list[str] | None = None) -> list[str]:
    blocked = _blocked_keys(q, kind, domains=domains)
    return list(q.session.scalars(select(blocked.c.key)))


def _accepted_domains(q: _Q) -> list[str]:
    """Domains blocked in the period that had mail accepted in the look-back. Only their senders can have had
    mail accepted themselves, so random spam senders (the bulk of a big day) are never probed one by one."""
    blocked = _blocked_keys(q, "domain_n")
    return sorted(q.session.scalars(
        select(blocked.c.key).where(_seen_before(q, "domain_n", blocked.c.key, rollup.ACCEPTED, True))))


def _false_positives(q: _Q, kind: str, target_kind: str) -> list[TopItem]:
    """Likely false positives of `kind` (sender or domain), largest first, with what was accepted before."""
    compact = rollup.COMPACT[kind]
    if kind == "sender":
        candidates: list[str] = []
        for chunk in _chunks(_accepted_domains(q)):
            candidates += _blocked_list(q, compact, domains=chunk)
        rows = _newly_blocked(q, compact, candidates)
    else:
        rows = _newly_blocked(q, compact)
    if not rows:
        return []
    look_first = (q.period.first - timedelta(days=LOOKBACK_DAYS)).isoformat()
    look_last = (q.period.first - timedelta(days=1)).isoformat()
    keys = [k for k, _ in rows]
    accepted = dict(q.session.execute(
        select(R.key, func.sum(R.count))
        .where(R.zone == q.zone, R.kind == compact, R.key.in_(keys), R.day >= look_first, R.day <= look_last,
               R.disposition.in_(rollup.ACCEPTED), R.direction == "inbound").group_by(R.key)).all())
    reasons = q.main_reasons(kind, rollup.BLOCKED, keys)
    return [TopItem(target_kind, key, n, *reasons.get(key, ("undefined", "unknown")),
                    accepted_before=int(accepted.get(key, 0))) for key, n in rows]


def _local_recipient(local_domains: tuple[str, ...]) -> tuple[Any, ...]:
    if not local_domains:
        return ()
    escaped = [d.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for d in local_domains]
    return (or_(*(R.key.like(f"%@{d}", escape="\\") for d in escaped)),)


def _hour_buckets(q: _Q, zone: ZoneInfo) -> list[tuple[str, dict[str, int]]]:
    """Blocked per local hour by cause (a 23- or 25-hour day keeps its real hours); per day for longer periods."""
    if q.period.days > 1:
        stmt = (select(R.day, R.cause, func.sum(R.count)).where(q.where("total", rollup.BLOCKED))
                .group_by(R.day, R.cause))
        per_day: dict[str, dict[str, int]] = {d.isoformat(): {} for d in q.period.day_list()}
        for day, cause, n in q.session.execute(stmt):
            per_day[day][cause or "unknown"] = int(n)
        return [(date.fromisoformat(d).strftime("%a %d"), c) for d, c in per_day.items()]
    start, end = day_bounds(q.period.last, zone)
    hours = round((end - start).total_seconds() / 3600)
    buckets: list[dict[str, int]] = [{} for _ in range(hours)]
    stmt = (select(R.key, R.cause, func.sum(R.count)).where(q.where("hour", rollup.BLOCKED))
            .group_by(R.key, R.cause))
    for key, cause, n in q.session.execute(stmt):
        index = int(key)
        if 0 <= index < hours:
            buckets[index][cause or "unknown"] = int(n)
    labels = [(start + timedelta(hours=i)).astimezone(zone).strftime("%H") for i in range(hours)]
    return list(zip(labels, buckets, strict=True))


def compute_digest(
    store: Store,
    period: Period,
    zone: ZoneInfo,
    *,
    local_domains: tuple[str, ...] = (),
    ip_status: IpStatusReport | None = None,
    now: datetime | None = None,
) -> Digest:
    """Refresh the rollup for the days needed, then read every section from it."""
    now = now or datetime.now(UTC)
    days = needed_days(period)
    rollup.refresh(store.engine, zone, days, now=now)
    with store.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # a big day's per-sender rows need more than the default 4 MB to aggregate without spilling to disk
            session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
            session.execute(text("SET LOCAL jit = off"))  # compiling costs more than these short queries
        q = _Q(session, zone.key, period)
        by_day = _totals_by_day(q, days[0], days[-1])
        by_cause, by_reason = _breakdown(q)
        trend_days = _days(period.last - timedelta(days=TREND_DAYS - 1), period.last)
        start, _ = day_bounds(period.first, zone)
        _, end = day_bounds(period.last, zone)
        return Digest(
            zone=zone.key, period=period, generated_at=now,
            hours_in_period=round((end - start).total_seconds() / 3600, 2),
            blocked=_totals(by_day, period, "blocked"), bounced=_totals(by_day, period, "bounced"),
            accepted=_sum(by_day, period, "accepted"),
            by_cause=by_cause, by_reason=by_reason,
            top_senders=q.items("sender", "address", rollup.BLOCKED, TOP_N),
            top_domains=q.items("domain", "domain", rollup.BLOCKED, TOP_N),
            top_ips=q.items("ip", "ip", rollup.BLOCKED, TOP_N),
            false_positives=(_false_positives(q, "sender", "address") + _false_positives(q, "domain", "domain")),
            invalid_recipients=q.items("recipient", "recipient", rollup.BLOCKED + rollup.BOUNCED, LIST_N,
                                       *_local_recipient(local_domains)),
            outbound_bounces=q.items("remote_domain", "recipient_domain", rollup.BOUNCED, LIST_N),
            chart_buckets=_hour_buckets(q, zone),
            trend=[(d, by_day.get(d, {}).get("blocked", 0), by_day.get(d, {}).get("bounced", 0))
                   for d in trend_days],
            ip_status=ip_status or IpStatusReport(),
            sources=source_health_lines(session, now),
        )
