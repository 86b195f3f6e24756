"""The report's rollup gives the report the events give: for any period and zone, built at once or piece by
piece as an ingest appends (late events into a finished day too), on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bench.postfix_synth import generate, generate_more
from bot.ingest.runner import Ingestor
from bot.report import rollup
from bot.report.build import build_report
from bot.store import Store
from storage.db import make_engine, upgrade
from storage.models import ReportRollup, ReportRollupDay

START = datetime(2026, 11, 28, 21, 10, tzinfo=UTC)
LATER = datetime(2026, 12, 6, tzinfo=UTC)
ZONES = [ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]  # a DST zone, a half-hour one


def _lines(n: int, *, seed: int, start: datetime) -> Iterator[str]:
    """Every outcome, one message every ~80 s (n messages span days): `generate`'s mix, then the outcomes of
    `generate_more` once it is done."""
    main = n * 9 // 10
    yield from generate(main, seed=seed, start=start, rate=1 / 80)
    yield from generate_more(n - main, seed=seed + 1, start=start + timedelta(seconds=main * 80 + 3600),
                             rate=1 / 80)


def _ingest(store: Store, path: Path, lines: Iterator[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))
    os.utime(path, (LATER.timestamp(), LATER.timestamp()))  # the year of the classic stamps
    result = Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(path)
    assert result.stats.skipped == 0, result.stats.examples


def _both(store: Store, first: date, last: date, zone: ZoneInfo) -> tuple[dict, dict]:
    with store.session() as session:
        rolled = build_report(session, first, last, zone, now=LATER).to_json()
    with store.session() as session:
        live = build_report(session, first, last, zone, now=LATER, use_rollup=False).to_json()
    return rolled, live


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    _ingest(store, tmp_path / "maillog", _lines(3_000, seed=5, start=START))
    return store


def test_every_day_and_period_in_every_zone_equals_the_report_from_the_events(filled: Store) -> None:
    days = [date(2026, 11, 28) + timedelta(days=i) for i in range(5)]
    for zone in ZONES:
        for first, last in [*((d, d) for d in days), (days[0], days[-1]), (days[1], days[2])]:
            rolled, live = _both(filled, first, last, zone)
            assert rolled == live, (zone.key, first, last)
    rolled, _ = _both(filled, days[0], days[-1], ZONES[0])
    totals = rolled["totals"]
    # the period holds every kind of figure the rollup keeps
    assert min(totals[k] for k in ("received", "delivered", "deferrals", "bounced", "rejected", "held",
                                   "discarded", "reject_warnings", "forwarded")) > 0, totals
    assert rolled["recipient_domains"] and any(d["avg_delay"] for d in rolled["recipient_domains"])


def test_a_day_is_read_from_its_rollup_rows_not_the_events(filled: Store) -> None:
    day, zone = date(2026, 11, 29), ZONES[0]
    rolled, _ = _both(filled, day, day, zone)
    with filled.session() as session:
        state = session.scalars(select(ReportRollupDay).where(ReportRollupDay.day == day.isoformat())).one()
        kinds = dict(session.execute(select(ReportRollup.kind, func.count()).where(
            ReportRollup.day == day.isoformat(), ReportRollup.zone == "UTC").group_by(ReportRollup.kind)).all())
    assert state.built_through_id > 0 and state.events > 0
    assert set(kinds) == {"traffic", "sender", "recipient", "deferral_domain", "deferred_qid", "delay", "problem"}
    # the rows are the report: changing one changes what the report says (so it is not the events read again)
    with filled.session() as session:
        cell = session.scalars(select(ReportRollup).where(
            ReportRollup.day == day.isoformat(), ReportRollup.kind == "traffic", ReportRollup.k3 == "delivered")
            .limit(1)).one()
        cell.n += 1000
        session.commit()
    again, live = _both(filled, day, day, zone)
    assert again["totals"]["delivered"] == rolled["totals"]["delivered"] + 1000 == live["totals"]["delivered"] + 1000


def test_events_appended_later_are_added_to_built_days_without_rebuilding_them(store: Store,
                                                                               tmp_path: Path) -> None:
    zone = ZoneInfo("Europe/Berlin")
    first, last = date(2026, 11, 28), date(2026, 12, 1)
    _ingest(store, tmp_path / "one", _lines(1_500, seed=7, start=START))
    rolled, live = _both(store, first, last, zone)
    assert rolled == live
    # a second log: more of the same days (late events into finished days) and a new day
    _ingest(store, tmp_path / "two", _lines(1_500, seed=11, start=START + timedelta(hours=20)))
    stats = rollup.refresh(store.engine, zone, [first + timedelta(days=i) for i in range(4)], now=LATER)
    assert not stats.built and stats.added, stats  # topped up by id, not built again
    rolled_again, live_again = _both(store, first, last, zone)
    assert rolled_again == live_again
    assert rolled_again["totals"]["received"] > rolled["totals"]["received"]


@pytest.mark.postgres
def test_a_read_only_database_is_reported_from_its_events(pg_url: str, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A read replica (PostgreSQL's default_transaction_read_only, as a hot standby answers) cannot hold the
    rollup: the report reads the events and says so in the log. (SQLite has no such case: bouncebot refuses a
    read-only SQLite file before any command, storage.db.)"""
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(pg_url)
    try:
        _ingest(store, tmp_path / "maillog", _lines(600, seed=3, start=START))
        day = date(2026, 11, 29)
        with store.session() as session:
            expected = build_report(session, day, day, ZONES[0], now=LATER, use_rollup=False).to_json()
        url = store.engine.url.render_as_string(hide_password=False)
        replica = Store.open(url.replace("options=", f"options={quote('-cdefault_transaction_read_only=on ')}", 1))
        try:
            with caplog.at_level(logging.WARNING, logger="bot.report.build"), replica.session() as session:
                found = build_report(session, day, day, ZONES[0], now=LATER).to_json()
        finally:
            replica.dispose()
        assert found == expected
        assert "reading the events instead" in caplog.text
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(ReportRollup)) == 0
    finally:
        store.dispose()


def test_old_days_are_purged_from_the_rollup(filled: Store) -> None:
    zone = ZONES[0]
    _both(filled, date(2026, 11, 28), date(2026, 12, 1), zone)
    removed = rollup.purge_before(filled.engine, date(2026, 11, 30))
    with filled.session() as session:
        days = set(session.scalars(select(ReportRollup.day).distinct()))
        states = set(session.scalars(select(ReportRollupDay.day)))
    assert removed > 0
    assert days == states == {"2026-11-30", "2026-12-01"}
