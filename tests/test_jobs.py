"""The housekeeping jobs that `bouncebot serve` schedules, run for real by APScheduler against a real store."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot import approvals, audit
from bot.config import Settings
from bot.events import TrackingEvent
from bot.jobs import expire_approvals, housekeeping_jobs
from bot.scheduler import start_scheduler
from bot.store import Store
from storage import queries


def test_jobs_follow_the_settings(store: Store) -> None:
    ids = {job["id"] for job in housekeeping_jobs(store, Settings())}
    assert ids == {"partitions", "retention", "approvals-expiry"}
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
