"""Syslog line headers: time stamp, host and program tag, for classic (no year) and RFC 3339 stamps.

Classic stamps ("Nov 30 06:26:26") carry no year and are in the host's local time. The year is inferred
from a reference time (the file's modification time: its last line was written then): a stamp that would
lie more than a day after the reference belongs to the year before, which handles a file spanning New
Year. The year is never 0 and 29 February falls back to the nearest earlier leap year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

from bot.events import plausible_time

MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}

#: A stamp may lie this far after the reference (clock skew, a file closed a little later) and keep its year.
_SLACK = timedelta(days=1)


class Header(NamedTuple):
    stamp: str       # the raw stamp, prefixed with the inferred year for classic stamps
    time: datetime   # aware UTC
    host: str
    tag: str         # "postfix/smtpd[664]"
    message: str


class StampError(ValueError):
    """The line does not start with a syslog time stamp we understand."""


class SyslogClock:
    """Turns raw stamps into UTC datetimes; caches the last one (many lines share a second)."""

    __slots__ = ("_last_raw", "_last_value", "reference", "tz")

    def __init__(self, reference: datetime | None = None, tz: tzinfo | None = None) -> None:
        self.reference = (reference or datetime.now(UTC)).astimezone(UTC)
        self.tz = tz  # None: this machine's local time (with its DST rules)
        self._last_raw = ""
        self._last_value: tuple[str, datetime] = ("", self.reference)

    def classic(self, raw: str) -> tuple[str, datetime]:
        """'Nov 30 06:26:26' -> ('2026 Nov 30 06:26:26', UTC datetime)."""
        if raw == self._last_raw:
            return self._last_value
        try:
            month = MONTHS[raw[:3]]
            day = int(raw[4:6])
            hour, minute, second = int(raw[7:9]), int(raw[10:12]), int(raw[13:15])
        except (KeyError, ValueError) as exc:
            raise StampError(raw) from exc
        if raw[6] != " " or raw[9] != ":" or raw[12] != ":":
            raise StampError(raw)
        year, value = self._local(self.reference.year, month, day, hour, minute, second)
        if value > self.reference + _SLACK and year > 1:  # never year 0
            year, value = self._local(year - 1, month, day, hour, minute, second)
        result = (f"{year} {raw}", value)
        self._last_raw, self._last_value = raw, result
        return result

    def _local(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> tuple[int, datetime]:
        for candidate in range(year, max(year - 8, 0), -1):  # 29 February: the nearest earlier leap year
            try:
                naive = datetime(candidate, month, day, hour, minute, second)  # local time on purpose
            except ValueError:
                continue
            if self.tz is None:
                return candidate, naive.astimezone(UTC)
            return candidate, naive.replace(tzinfo=self.tz).astimezone(UTC)
        raise StampError(f"{month}/{day} {hour}:{minute}:{second}")

    def rfc3339(self, raw: str) -> tuple[str, datetime]:
        """'2026-11-30T06:26:26.123456+01:00' -> (raw, UTC datetime)."""
        if raw == self._last_raw:
            return self._last_value
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise StampError(raw) from exc
        if value.tzinfo is None:
            value = value.astimezone(UTC) if self.tz is None else value.replace(tzinfo=self.tz)
        result = (raw, value.astimezone(UTC))
        if not plausible_time(result[1]):
            raise StampError(f"{raw} is out of range")
        self._last_raw, self._last_value = raw, result
        return result


def split_header(line: str, clock: SyslogClock) -> Header:
    """Split 'STAMP HOST TAG: MESSAGE'. Raises StampError or ValueError for anything else."""
    first = line[:1]
    if first.isdigit():
        raw, _, rest = line.partition(" ")
        stamp, when = clock.rfc3339(raw)
    elif first.isalpha():
        stamp, when = clock.classic(line[:15])
        rest = line[16:]
    else:
        raise StampError(line[:20])
    host, _, rest = rest.partition(" ")
    tag, sep, message = rest.partition(": ")
    if not sep or not tag:
        raise ValueError("no program tag")
    return Header(stamp, when, host, tag, message)
