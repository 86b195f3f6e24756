"""Acceptance: on a Postfix log, the report's grand totals and per-hour table equal pflogsumm's, line for line
(the real pflogsumm, on the dev scenario and on a synthetic log of 100,000 messages with every outcome)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.postfix_synth import generate_every_outcome
from bot.ingest.runner import Ingestor
from bot.report.build import build_report
from bot.store import Store
from storage.db import make_engine, upgrade
from storage.report_queries import time_range
from tests.report.pflogsumm import ours, run_pflogsumm
from tests.support import require_binary, shared_path

UTC_ZONE = ZoneInfo("UTC")


def _report_of(store: Store, log: Path):
    result = Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(log)
    assert result.stats.skipped == 0, result.stats.examples
    with store.session() as session:
        oldest, newest = time_range(session)
        assert oldest is not None and newest is not None
        return build_report(session, oldest.date(), newest.date(), UTC_ZONE, now=newest + timedelta(days=1))


def _compare(binary: str, store: Store, log: Path) -> None:
    theirs_totals, theirs_hours = run_pflogsumm(binary, log)
    report = _report_of(store, log)
    our_totals, our_hours = ours(report)
    assert len(theirs_totals) == 18 and len(theirs_hours) == 24
    for name, value in theirs_totals.items():
        assert (name, our_totals[name].strip()) == (name, value.strip())
    assert our_hours == theirs_hours


def test_the_dev_scenario_agrees_with_pflogsumm(store: Store, tmp_path: Path) -> None:
    binary = require_binary("pflogsumm")
    source = shared_path("corpus", "postfix", "dev-maillog.log")
    log = tmp_path / "maillog"
    log.write_bytes(source.read_bytes())  # a copy with a known mtime: the year of its classic stamps
    when = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(log, (when, when))
    _compare(binary, store, log)


def test_a_synthetic_log_of_100000_messages_with_every_outcome_agrees_with_pflogsumm(
        sqlite_url: str, tmp_path: Path) -> None:
    """On SQLite only (minutes of ingest on a shared machine); the dev scenario runs on both databases."""
    binary = require_binary("pflogsumm")
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(sqlite_url)
    log = tmp_path / "maillog"
    start = datetime(2026, 11, 30, 0, 40, tzinfo=UTC)  # one day (pflogsumm averages the hours of several)
    with log.open("w") as out:
        for line in generate_every_outcome(100_000, seed=19, start=start):
            out.write(line + "\n")
    when = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(log, (when, when))
    try:
        _compare(binary, store, log)
    finally:
        store.dispose()
