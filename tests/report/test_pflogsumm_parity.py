"""Acceptance: on a Postfix log, the report's grand totals and per-hour table equal pflogsumm's, line for line
(the real pflogsumm, on the dev scenario and on a synthetic log of 100,000 messages with every outcome)."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.postfix_synth import generate_every_outcome
from bot.ingest.runner import Ingestor
from bot.report.build import build_report
from bot.store import Store
from storage.db import make_engine, upgrade
from storage.models import Event
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


def test_messages_that_never_reached_qmgr_agree_with_pflogsumm(store: Store, tmp_path: Path) -> None:
    """The events the ingest makes beyond Postfix's own reject lines (a client lost in DATA, the recipients a
    whole-message refusal does not name) are not rejects pflogsumm counts: the totals still agree (real Postfix
    lines, quoted in tests/ingest/test_postfix_fates.py)."""
    from tests.ingest import test_postfix_fates as fates

    binary = require_binary("pflogsumm")
    lines = [*fates.HEADER_REJECT_TWO_RCPTS, *fates.SIZE_INFO_FIRST, *fates.LOST, *fates.LOST_QUIET,
             *fates.SIZE_TWO_RCPTS, *fates.LOST_TWO_RCPTS,
             # cleanup's milter lines (smtpd's milter-reject is a difference docs/report.md owns up to)
             *(line for line, *_ in fates.MILTER if "/smtpd[" not in line)]
    log = tmp_path / "maillog"
    log.write_text("\n".join(sorted(lines, key=lambda line: line[:15])) + "\n")
    quiet = time.time() - 60  # the file has gone quiet: the runner makes the events still waiting for lines
    os.utime(log, (quiet, quiet))
    _compare(binary, store, log)
    with store.session() as session:
        kinds = Counter(session.scalars(select(Event.disposition)))
    assert kinds["received"] == 6 and kinds["rejected"] > 8  # every client= line; more events than reject lines
