"""Parsing of durations ("7d", "2h") and points in time ("2026-11-01") given on the command line or in Slack."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d|w)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'30d', '2h', '15m', '1w', '90s' (a bare number means days). Raises ValueError with a usable message."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 7d, 12h, 30m)")
    amount, unit = int(match.group(1)), (match.group(2) or "d").lower()
    return timedelta(seconds=amount * _UNITS[unit])


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A duration back from now ('7d') or a date/time ('2026-11-01', '2026-11-01T08:00Z'), in UTC."""
    now = now or datetime.now(UTC)
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a duration or a date: {text!r} (use e.g. 7d, 12h or 2026-11-01)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC: 23, 24 or 25 hours apart."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def utcnow() -> datetime:
    return datetime.now(UTC)
