"""The housekeeping jobs that `bouncebot serve` schedules, run for real by APScheduler against a real store."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import approvals, audit
from bot.config import Settings
from bot.events import TrackingEvent
from bot.jobs import expire_approvals, housekeeping_jobs, keep_report_rollup
from bot.scheduler import start_scheduler
from bot.store import Store
from storage import queries
from storage.models import ReportRollup, ReportRollupDay


def test_jobs_follow_the_settings(store: Store) -> None:
    ids = {job["id"] for job in housekeeping_jobs(store, Settings())}
    assert ids == {"partitions", "retention", "approvals-expiry", "report-rollup"}
    ids = {job["id"] for job in housekeeping_jobs(store, Settings(tmems_url="http://127.0.0.1:9"))}
    assert "tmems-poll" in ids


def test_scheduler_runs_expiry_and_partitions_at_start(store: Store) -> None:
    with store.session() as s:
        outcome = approvals.approve(s, pattern="partner.example", reason="trusted", actor="U1",
                                    expires_at=datetime.now(UTC) + timedelta(seconds=1))
    assert outcome.created
    time.sleep(1.2)
    scheduler = start_scheduler(Settings(), store, chat=None, extra_jobs=housekeeping_jobs(store, Settings()))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with store.session() as s:
                if audit.list_entries(s, action=audit.EXPIRE):
                    break
            time.sleep(0.2)
        with store.session() as s:
            assert audit.list_entries(s, action=audit.EXPIRE), "the expiry job did not run"
            assert approvals.list_active(s) == []
    finally:
        scheduler.shutdown(wait=True)


def test_retention_job_and_expiry_directly(store: Store) -> None:
    old = datetime.now(UTC) - timedelta(days=45)
    with store.session() as s:
        queries.insert_events(s, [TrackingEvent(time=old, source="t", source_key="old", direction="inbound",
                                                disposition="rejected").as_row()])
        s.commit()
    retention = next(j for j in housekeeping_jobs(store, Settings()) if j["id"] == "retention")
    retention["func"]()
    with store.session() as s:
        assert queries.total_events(s) == 0
        approvals.approve(s, pattern="a@b.example", reason="r", actor="U1",
                          expires_at=datetime.now(UTC) + timedelta(seconds=0.5))
    time.sleep(0.7)
    assert expire_approvals(store, Settings()) == 1
    assert expire_approvals(store, Settings()) == 0  # each expiry happens once


def test_the_report_rollup_job_builds_yesterday_and_today_and_drops_days_past_retention(store: Store) -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    events = [TrackingEvent(time=now - timedelta(hours=h), source="t", source_key=f"k{h}", direction="inbound",
                            disposition="delivered", recipient="u@ours.example") for h in (1, 20)]
    with store.session() as s:
        queries.insert_events(s, [e.as_row() for e in events])
        s.add(ReportRollupDay(zone="UTC", day="2026-10-01", built_through_id=0, events=0, built_at=now))
        s.commit()
    stats = keep_report_rollup(store, Settings(digest_timezone="UTC"), now=now)
    assert sorted(stats.built) == ["2026-12-06", "2026-12-07"]
    with store.session() as s:
        assert set(s.scalars(select(ReportRollupDay.day))) == {"2026-12-06", "2026-12-07"}
        delivered = s.scalars(select(ReportRollup.n).where(ReportRollup.kind == "traffic",
                                                            ReportRollup.k3 == "delivered")).all()
    assert sum(delivered) == 2
    again = keep_report_rollup(store, Settings(digest_timezone="UTC"), now=now)
    assert not again.built and not again.added  # nothing new: nothing rebuilt
