"""Exactly once: processes racing for the day's digest, a restart after the scheduled time, a crashed poster.

Every instance is a separate OS process (tests.digest.race_worker) against the same SQLite file or the same
PostgreSQL schema, posting through a fake Slack Web API over real HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import func, select

from bot.config import Settings
from bot.digest.claim import run_for
from bot.digest.period import DigestSpec
from bot.digest.post import DigestRunner
from bot.scheduler import start_scheduler
from bot.store import Store
from storage.models import DigestRollup, DigestRun
from tests.digest.dataset import D, insert, known_rows
from tests.slack.fakes import FakeSlackAPI, slack_chat
from tests.support import ROOT

PROCESSES = 6


@pytest.fixture
def slack() -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


def _worker(url: str, slack: FakeSlackAPI, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.digest.race_worker", "--url", url,
                             "--slack", slack.base_url, *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(procs: list[subprocess.Popen[str]]) -> list[dict]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr[-3000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_processes_race_and_exactly_one_posts(db_url: str, slack: FakeSlackAPI) -> None:
    store = Store.open(db_url)
    insert(store, known_rows())
    start_at = time.time() + 20     # every process is up and waiting before the start (checked below)
    procs = [_worker(db_url, slack, "--now", "2026-11-30T09:00:00.5+00:00", "--start-at", str(start_at))
             for _ in range(PROCESSES)]
    results = _results(procs)
    assert sum(not r["late"] for r in results) >= 2, f"too few processes raced: {results}"
    winners = [r for r in results if r["posted"]]
    assert len(winners) == 1, results
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    with store.session() as session:
        runs = session.scalars(select(DigestRun)).all()
    assert len(runs) == 1
    assert (runs[0].digest, runs[0].day, runs[0].message_ts, runs[0].claimed_by) == (
        "daily:C0RACE", D.isoformat(), winners[0]["posted"], winners[0]["owner"])
    assert runs[0].posted_at is not None and runs[0].channel == "C0RACE"
    store.dispose()


def test_processes_refreshing_the_rollup_together_count_each_event_once(db_url: str, slack: FakeSlackAPI) -> None:
    store = Store.open(db_url)
    insert(store, known_rows())
    start_at = time.time() + 12
    procs = [_worker(db_url, slack, "--mode", "refresh", "--now", D.isoformat(), "--start-at", str(start_at))
             for _ in range(4)]
    results = _results(procs)
    assert sum(not r["late"] for r in results) >= 2, f"too few processes raced: {results}"
    built = [day for r in results for day in r["built"]]
    assert len(built) == len(set(built)) == 15          # each day built by exactly one process
    with store.session() as session:
        total = session.scalar(select(func.sum(DigestRollup.count)).where(DigestRollup.kind == "total"))
    assert total == len(known_rows())
    store.dispose()


def test_restart_after_the_scheduled_time_posts_once_late(store: Store, slack: FakeSlackAPI) -> None:
    insert(store, known_rows())
    settings = Settings(digest_channels=("C1", "C2:weekly"), digest_time="09:00", digest_timezone="UTC",
                        digest_late_cutoff_hours=6)
    chat = slack_chat(slack.base_url)
    monday_late = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)     # the process was down at 09:00
    first = DigestRunner(store, settings, chat, clock=lambda: monday_late).catch_up()
    assert sorted((p.channel, p.digest.period.first.isoformat(), p.digest.period.last.isoformat())
                  for p in first) == [("C1", "2026-11-29", "2026-11-29"), ("C2", "2026-11-23", "2026-11-29")]
    # restarted again a few minutes later: nothing more
    later = DigestRunner(store, settings, chat, clock=lambda: monday_late + timedelta(minutes=5)).catch_up()
    assert later == []
    assert len(slack.calls_to("chat.postMessage")) == 2
    run = run_for(store, "daily:C1", D)
    assert run is not None and run.message_ts and run.posted_at == monday_late


def test_missed_beyond_the_cutoff_is_not_posted(store: Store, slack: FakeSlackAPI) -> None:
    settings = Settings(digest_channels=("C1",), digest_time="09:00", digest_timezone="UTC",
                        digest_late_cutoff_hours=6)
    too_late = datetime(2026, 11, 30, 15, 1, tzinfo=UTC)
    assert DigestRunner(store, settings, slack_chat(slack.base_url), clock=lambda: too_late).catch_up() == []
    in_time = datetime(2026, 11, 30, 14, 59, tzinfo=UTC)
    assert len(DigestRunner(store, settings, slack_chat(slack.base_url), clock=lambda: in_time).catch_up()) == 1


def _scheduler_run(settings: Settings, store: Store, slack: FakeSlackAPI) -> list[JobExecutionEvent]:
    """Start the real APScheduler, wait for its start-up catch-up job to finish, stop it."""
    done = threading.Event()
    events: list[JobExecutionEvent] = []

    def listener(event: JobExecutionEvent) -> None:
        if event.job_id == "digest:catch-up":
            events.append(event)
            done.set()

    scheduler = start_scheduler(settings, store, slack_chat(slack.base_url), start=False)
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        assert done.wait(60), "the catch-up job did not run at start"
    finally:
        scheduler.shutdown(wait=True)
    return events


def test_scheduler_start_posts_a_missed_digest_once(store: Store, slack: FakeSlackAPI) -> None:
    now = datetime.now(UTC)
    settings = Settings(digest_channels=("C0SCHED",), digest_time=f"{now - timedelta(minutes=3):%H:%M}",
                        digest_timezone="UTC", digest_late_cutoff_hours=2)
    first = _scheduler_run(settings, store, slack)
    assert first[0].exception is None
    assert len(slack.calls_to("chat.postMessage")) == 1
    second = _scheduler_run(settings, store, slack)          # a restart of the bot
    assert second[0].exception is None
    assert len(slack.calls_to("chat.postMessage")) == 1
    spec = DigestSpec("C0SCHED")
    fire = spec.last_fire(datetime.now(UTC), ZoneInfo("UTC"), (int(settings.digest_time[:2]),
                                                                 int(settings.digest_time[3:])))
    run = run_for(store, spec.name, spec.period_for(fire.date()).last)
    assert run is not None and run.message_ts and run.posted_at is not None


def test_scheduler_has_the_cron_job_at_the_configured_time_and_zone(store: Store, slack: FakeSlackAPI) -> None:
    settings = Settings(digest_channels=("C1", "C2:weekly"), digest_time="07:45", digest_timezone="Europe/Berlin")
    marker = {"func": print, "trigger": "interval", "minutes": 5, "id": "retention-purge", "args": ["x"]}
    scheduler = start_scheduler(settings, store, slack_chat(slack.base_url), extra_jobs=[marker], start=False)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"digest:daily:C1", "digest:weekly:C2", "digest:catch-up", "digest:rollup",
                         "retention-purge"}
    trigger = jobs["digest:daily:C1"].trigger
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    # the day the clocks go forward in Berlin: 07:45 CET on the 28th... then 07:45 CEST (05:45 UTC) on the 29th
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 3, 29, 5, 45, tzinfo=UTC)
    weekly = jobs["digest:weekly:C2"].trigger.get_next_fire_time(None, after)
    assert weekly.astimezone(UTC) == datetime(2026, 3, 30, 5, 45, tzinfo=UTC)   # Monday


def test_a_crashed_claim_is_taken_over_after_its_lease(db_url: str, slack: FakeSlackAPI) -> None:
    store = Store.open(db_url)
    now = datetime.now(UTC)
    clock = f"{now - timedelta(minutes=1):%H:%M}"
    slack.hang("chat.postMessage")
    proc = _worker(db_url, slack, "--time", clock, "--lease", "4", "--channel", "C0CRASH")
    try:
        slack.wait_for("chat.postMessage(hung)", timeout=60)
    finally:
        proc.kill()                      # the owner dies in the middle of posting
        proc.wait(timeout=10)
    slack.release()
    settings = Settings(digest_channels=("C0CRASH",), digest_time=clock, digest_timezone="UTC")
    survivor = DigestRunner(store, settings, slack_chat(slack.base_url))
    with store.session() as session:
        run = session.scalars(select(DigestRun)).one()
    assert run.posted_at is None and run.claimed_by != survivor.owner
    # within the lease: the claim is respected
    if datetime.now(UTC) < run.lease_until - timedelta(seconds=0.5):
        assert survivor.catch_up() == []
    while datetime.now(UTC) <= run.lease_until:
        time.sleep(0.2)
    taken = survivor.catch_up()
    assert len(taken) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1
    with store.session() as session:
        after = session.scalars(select(DigestRun)).one()
    assert after.claimed_by == survivor.owner and after.message_ts == taken[0].ts and after.posted_at is not None
    assert survivor.catch_up() == []
    store.dispose()
