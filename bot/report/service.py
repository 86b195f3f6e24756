"""The report for the CLI and Slack: which days a request means, in which zone, read in one session."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.config import Settings
from bot.digest.period import resolve_zone
from bot.report.build import build_report
from bot.report.model import Report
from bot.store import Store
from bot.timeutil import parse_day, parse_duration

#: The longest period one report covers (the store keeps 30 days by default; a year is a safe bound).
MAX_DAYS = 366


def parse_local_day(text: str, *, today: date) -> date:
    """'2026-11-30', or a duration back from today ('7d'), or 'today'/'yesterday'; raises ValueError."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        return today - timedelta(days=parse_duration(word).days)
    except ValueError:
        return parse_day(text)


def resolve_days(day: str | None, since: str | None, until: str | None, *, today: date) -> tuple[date, date]:
    """The local days a request covers: one day (default yesterday), or since..until (until defaults to today)."""
    if day and (since or until):
        raise ValueError("give either one day or --since/--until, not both")
    if since or until:
        first = parse_local_day(since, today=today) if since else None
        last = parse_local_day(until, today=today) if until else today
        if first is None:
            raise ValueError("--until needs --since")
    else:
        first = last = parse_local_day(day, today=today) if day else today - timedelta(days=1)
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days in one report")
    return first, last


def make_report(store: Store, settings: Settings, first: date, last: date, *, top: int = 10,
                now: datetime | None = None) -> Report:
    zone = resolve_zone(settings.digest_timezone)
    with store.session() as session:
        return build_report(session, first, last, zone, top=top, retention_days=settings.retention_days,
                            now=now or datetime.now(UTC))


def today_in(settings: Settings, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(resolve_zone(settings.digest_timezone)).date()
