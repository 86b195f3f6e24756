"""The bot's background jobs: the digests (cron at BOUNCEBOT_DIGEST_TIME in the digest's zone), their catch-up,
keeping the digest rollup current, and whatever the caller adds (the TMEMS poller, the retention purge).

APScheduler 3.11 with the in-memory job store: its stores must not be shared between processes, so every
instance schedules everything itself and the digest claim (bot.digest.claim) makes each digest go out once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.digest.ipstatus import CheckFn
from bot.digest.post import DigestRunner
from bot.ports import Chat
from bot.store import Store

log = logging.getLogger(__name__)

CATCH_UP_MINUTES = 5       # how often a missed digest is looked for (and once right at start)
ROLLUP_MINUTES = 10        # how often the digest rollup takes in new events
MISFIRE_GRACE_SECONDS = 300


def start_scheduler(settings: Settings, store: Store, chat: Chat, *,
                    extra_jobs: Iterable[Mapping[str, Any]] = (), check: CheckFn | None = None,
                    runner: DigestRunner | None = None, start: bool = True) -> BackgroundScheduler:
    """Schedule the digests of `settings.digest_channels` and the `extra_jobs`, start, and return the scheduler.

    Each extra job is the keyword arguments of `BackgroundScheduler.add_job`, e.g.
    `{"func": poll, "trigger": IntervalTrigger(minutes=5), "id": "tmems-poll"}`. Stop with `.shutdown()`.
    """
    runner = runner or DigestRunner(store, settings, chat, check=check)
    scheduler = BackgroundScheduler(
        timezone=runner.zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    hour, minute = runner.at
    for spec in runner.specs:
        trigger = CronTrigger(hour=hour, minute=minute, day_of_week=spec.day_of_week, timezone=runner.zone)
        scheduler.add_job(runner.scheduled, trigger, args=[spec], id=f"digest:{spec.name}",
                          name=f"digest {spec.name} at {settings.digest_time} {runner.zone.key}")
    if runner.specs:
        now = datetime.now(UTC)
        scheduler.add_job(runner.catch_up, IntervalTrigger(minutes=CATCH_UP_MINUTES), id="digest:catch-up",
                          name="post missed digests", next_run_time=now)
        scheduler.add_job(runner.refresh_rollup, IntervalTrigger(minutes=ROLLUP_MINUTES), id="digest:rollup",
                          name="refresh the digest rollup")
    for job in extra_jobs:
        scheduler.add_job(**dict(job))
    if start:
        scheduler.start()
        for job in scheduler.get_jobs():
            log.info("scheduled %s (next %s)", job.name, job.next_run_time)
    return scheduler
