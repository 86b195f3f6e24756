"""Local days in zones other than UTC: the DST days of Europe/Berlin (23 and 25 hours), a half-hour zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.digest import rollup
from bot.digest.content import compute_digest
from bot.digest.period import DigestSpec, Period, default_period
from bot.digest.render import render_text
from bot.scheduler import start_scheduler
from bot.store import Store
from bot.timeutil import day_bounds
from tests.digest.dataset import event, insert
from tests.slack.fakes import slack_chat

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def blocked(when: datetime, sender: str = "spam@bulk.example") -> dict:
    return event(when, "rejected", sender)


def _per_label(digest) -> list[tuple[str, int]]:
    return [(label, sum(counts.values())) for label, counts in digest.chart_buckets]


def test_spring_forward_day_has_23_hours(store: Store) -> None:
    day = date(2026, 3, 29)
    assert day_bounds(day, BERLIN) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    insert(store, [
        blocked(utc(2026, 3, 28, 22, 59)),   # 23:59 CET on the 28th: the day before
        blocked(utc(2026, 3, 28, 23, 30)),   # 00:30 CET
        blocked(utc(2026, 3, 29, 0, 59)),    # 01:59 CET
        blocked(utc(2026, 3, 29, 1, 0)),     # 03:00 CEST (02:00-03:00 does not exist)
        blocked(utc(2026, 3, 29, 21, 59)),   # 23:59 CEST
        blocked(utc(2026, 3, 29, 22, 0)),    # 00:00 CEST on the 30th: the day after
    ])
    digest = compute_digest(store, Period(day), BERLIN, now=utc(2026, 3, 30, 8))
    assert digest.hours_in_period == 23
    assert digest.blocked.current == 4 and digest.blocked.previous == 1
    labels = [label for label, _ in digest.chart_buckets]
    assert len(labels) == 23 and "02" not in labels and labels[:3] == ["00", "01", "03"] and labels[-1] == "23"
    counts = dict(_per_label(digest))
    assert (counts["00"], counts["01"], counts["03"], counts["23"]) == (1, 1, 1, 1)
    assert "23 h" in render_text(digest)


def test_fall_back_day_has_25_hours(store: Store) -> None:
    day = date(2026, 10, 25)
    assert day_bounds(day, BERLIN) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    insert(store, [
        blocked(utc(2026, 10, 24, 22, 0)),   # 00:00 CEST
        blocked(utc(2026, 10, 25, 0, 30)),   # 02:30 CEST (the first 02:xx)
        blocked(utc(2026, 10, 25, 1, 30)),   # 02:30 CET (the second)
        blocked(utc(2026, 10, 25, 1, 40)),
        blocked(utc(2026, 10, 25, 22, 59)),  # 23:59 CET
        blocked(utc(2026, 10, 25, 23, 0)),   # the 26th
    ])
    digest = compute_digest(store, Period(day), BERLIN, now=utc(2026, 10, 26, 8))
    assert digest.hours_in_period == 25 and digest.blocked.current == 5
    per_label = _per_label(digest)
    assert len(per_label) == 25
    assert per_label[2] == ("02", 1) and per_label[3] == ("02", 2)
    assert per_label[0] == ("00", 1) and per_label[24] == ("23", 1)


def test_schedule_and_period_on_dst_days() -> None:
    spec = DigestSpec("C1")
    # 09:30 CEST on the first summer-time day: the run fired at 09:00 CEST (07:00 UTC) for the 28th
    fire = spec.last_fire(utc(2026, 3, 29, 7, 30), BERLIN, (9, 0))
    assert fire.astimezone(UTC) == utc(2026, 3, 29, 7, 0)
    assert spec.period_for(fire.date()) == Period(date(2026, 3, 28))
    fire = spec.last_fire(utc(2026, 10, 25, 7, 59), BERLIN, (9, 0))     # 08:59 CET: not yet today's
    assert fire.astimezone(UTC) == utc(2026, 10, 24, 7, 0)
    # a just-after-midnight run in Berlin is still "yesterday" for Berlin, while UTC is on the day before
    assert default_period(utc(2026, 10, 25, 23, 30), BERLIN) == Period(date(2026, 10, 25))
    assert default_period(utc(2026, 10, 25, 23, 30), ZoneInfo("UTC")) == Period(date(2026, 10, 24))


def test_half_hour_zone_and_late_event_in_a_straddling_hour(store: Store) -> None:
    day = date(2026, 11, 29)
    start, end = day_bounds(day, KOLKATA)
    assert (start, end) == (utc(2026, 11, 28, 18, 30), utc(2026, 11, 29, 18, 30))
    insert(store, [blocked(utc(2026, 11, 28, 18, 29)),    # 23:59 IST on the 28th
                   blocked(utc(2026, 11, 28, 18, 30)),    # 00:00 IST on the 29th
                   blocked(utc(2026, 11, 29, 18, 29))])   # 23:59 IST on the 29th
    days = [day - timedelta(days=1), day]
    rollup.refresh(store.engine, KOLKATA, days)
    # a late event in the UTC hour 18:00-19:00 that both local days share: only the 29th takes it
    insert(store, [blocked(utc(2026, 11, 28, 18, 45), "late@bulk.example")])
    stats = rollup.refresh(store.engine, KOLKATA, days)
    assert stats.added == {day.isoformat(): 1, (day - timedelta(days=1)).isoformat(): 0}
    digest = compute_digest(store, Period(day), KOLKATA, now=utc(2026, 11, 30, 4))
    assert digest.blocked.current == 3 and digest.blocked.previous == 1
    labels = _per_label(digest)
    assert labels[0] == ("00", 2) and labels[23] == ("23", 1)
    # the same events seen from UTC: separate rollup rows, other days
    in_utc = compute_digest(store, Period(date(2026, 11, 28)), ZoneInfo("UTC"), now=utc(2026, 11, 30, 4))
    assert in_utc.blocked.current == 3


def test_cron_in_another_zone(store: Store) -> None:
    settings = Settings(digest_channels=("C1",), digest_time="09:00", digest_timezone="America/New_York")
    scheduler = start_scheduler(settings, store, slack_chat("http://127.0.0.1:9/api/"), start=False)
    trigger = scheduler.get_job("digest:daily:C1").trigger
    assert trigger.get_next_fire_time(None, utc(2026, 11, 30, 12)) == utc(2026, 11, 30, 14)   # 09:00 EST
    assert trigger.get_next_fire_time(None, utc(2026, 7, 1, 12)) == utc(2026, 7, 1, 13)       # 09:00 EDT
