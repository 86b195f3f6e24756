"""Which local days a digest covers, in which time zone, and when it is due.

A digest is about whole local days of its time zone (the server's unless BOUNCEBOT_DIGEST_TIMEZONE is set), so
a day may have 23 or 25 hours when the clocks change; every bound is computed with zoneinfo, never by adding
24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from bot.config import ConfigError, Settings
from bot.timeutil import local_day

PERIODS = {"daily": 1, "weekly": 7}


def resolve_zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, or the server's own zone (UTC if it cannot be told)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"BOUNCEBOT_DIGEST_TIMEZONE: unknown time zone {name!r}") from None
    local = tzlocal.get_localzone()
    key = getattr(local, "key", None)
    return ZoneInfo(key) if key else ZoneInfo("UTC")


def zone_name(zone: ZoneInfo) -> str:
    return zone.key




def parse_clock(text: str) -> tuple[int, int]:
    """'09:00' -> (9, 0); raises ConfigError naming the setting."""
    try:
        hour_text, minute_text = text.strip().split(":")
        hour, minute = int(hour_text), int(minute_text)
    except ValueError:
        raise ConfigError(f"BOUNCEBOT_DIGEST_TIME must be HH:MM, got {text!r}") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigError(f"BOUNCEBOT_DIGEST_TIME must be HH:MM, got {text!r}")
    return hour, minute


@dataclass(frozen=True)
class Period:
    """The local days a digest reports on: `days` days ending with `last`."""

    last: date
    days: int = 1

    @property
    def first(self) -> date:
        return self.last - timedelta(days=self.days - 1)

    def day_list(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def shifted(self, periods: int) -> Period:
        """The period `periods` periods earlier (negative) or later."""
        return Period(self.last + timedelta(days=periods * self.days), self.days)

    def label(self) -> str:
        if self.days == 1:
            return self.last.strftime("%a %d %b %Y")
        return f"{self.first:%d %b} – {self.last:%d %b %Y}"


@dataclass(frozen=True)
class DigestSpec:
    """One configured digest: a channel and a period (daily, or weekly on Mondays)."""

    channel: str
    period: str = "daily"

    @property
    def name(self) -> str:
        return f"{self.period}:{self.channel}"

    @property
    def days(self) -> int:
        return PERIODS[self.period]

    @property
    def day_of_week(self) -> str | None:
        """APScheduler's day_of_week for the cron trigger (weekly digests go out on Mondays)."""
        return "mon" if self.period == "weekly" else None

    def period_for(self, fire: date) -> Period:
        """The period reported by the run that fires on local date `fire`: the days before it."""
        return Period(fire - timedelta(days=1), self.days)

    def last_fire(self, now: datetime, zone: ZoneInfo, clock: tuple[int, int]) -> datetime:
        """The most recent scheduled time at or before `now` (aware, in `zone`)."""
        today = now.astimezone(zone).date()
        for back in range(8):
            day = today - timedelta(days=back)
            if self.period == "weekly" and day.weekday() != 0:
                continue
            fire = datetime.combine(day, time(*clock), tzinfo=zone)
            if fire <= now:
                return fire
        raise AssertionError("a daily or weekly schedule fires within 8 days")  # pragma: no cover


def parse_spec(text: str) -> DigestSpec:
    """'C0123' (daily) or 'C0123:weekly'."""
    channel, _, period = text.strip().partition(":")
    period = (period or "daily").strip().lower()
    if not channel or period not in PERIODS:
        raise ConfigError(f"BOUNCEBOT_DIGEST_CHANNELS: {text!r} is not CHANNEL or CHANNEL:daily|weekly")
    return DigestSpec(channel.strip(), period)


def specs_from_settings(settings: Settings) -> list[DigestSpec]:
    return [parse_spec(item) for item in settings.digest_channels]


def default_period(now: datetime, zone: ZoneInfo, days: int = 1) -> Period:
    """The previous local day (or the `days` days before today)."""
    return Period(local_day(now, zone) - timedelta(days=1), days)
