"""The housekeeping jobs `bouncebot serve` schedules beside the digests (bot.scheduler.start_scheduler).

Every instance schedules them in memory; each is safe to run in several instances at once (idempotent
purges and partition creation, conditional expiry updates, TMEMS windows deduplicated by source key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import approvals
from bot.config import Settings
from bot.digest.period import resolve_zone
from bot.ingest.tmems_health import scheduled_poll
from bot.maintenance import prepare_partitions, purge_expired
from bot.report import rollup as report_rollup
from bot.rollups import RefreshStats
from bot.store import Store

log = logging.getLogger(__name__)

EXPIRY_MINUTES = 5
REPORT_ROLLUP_MINUTES = 10


def _logged(name: str, func: Callable[[], Any]) -> Callable[[], None]:
    """A job that logs its failure (one line, no secrets) instead of losing it in the scheduler's log."""

    def run() -> None:
        try:
            func()
        except Exception as exc:  # a job must never take the scheduler down; the next run tries again
            log.error("job %s failed: %s: %s", name, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")

    run.__name__ = name
    return run


def expire_approvals(store: Store, settings: Settings) -> int:
    with store.session() as session:
        expired = approvals.expire_due(session, settings=settings)
    if expired:
        log.info("approvals: %d expired", len(expired))
    return len(expired)


def poll_tmems(store: Store, settings: Settings) -> None:
    """One TMEMS poll unless a failing source is backing off (it logs its own summary, and errors and lost-data
    gaps as errors; its health is what App Home and the digest show)."""
    scheduled_poll(store, settings)


def keep_report_rollup(store: Store, settings: Settings, *, now: datetime | None = None) -> RefreshStats:
    """Bring the report rollup of yesterday and today up to date (so `/bounce report` reads it ready) and drop the
    days past the retention."""
    now = now or datetime.now(UTC)
    zone = resolve_zone(settings.digest_timezone)
    today = now.astimezone(zone).date()
    stats = report_rollup.refresh(store.engine, zone, [today - timedelta(days=1), today], now=now)
    report_rollup.purge_before(store.engine, today - timedelta(days=settings.retention_days))
    return stats


def housekeeping_jobs(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """add_job() keyword arguments for every housekeeping job these settings ask for."""
    now = datetime.now(UTC)
    jobs: list[dict[str, Any]] = [
        {"func": _logged("partitions", lambda: prepare_partitions(store)), "trigger": CronTrigger(hour=0, minute=5),
         "id": "partitions", "name": "create the coming days' partitions", "next_run_time": now},
        {"func": _logged("retention", lambda: purge_expired(store, settings)),
         "trigger": CronTrigger(hour=3, minute=30), "id": "retention",
         "name": f"purge events older than {settings.retention_days} days"},
        {"func": _logged("report-rollup", lambda: keep_report_rollup(store, settings)),
         "trigger": IntervalTrigger(minutes=REPORT_ROLLUP_MINUTES), "id": "report-rollup",
         "name": "keep the traffic report's rollup current", "next_run_time": now},
        {"func": _logged("approvals", lambda: expire_approvals(store, settings)),
         "trigger": IntervalTrigger(minutes=EXPIRY_MINUTES), "id": "approvals-expiry",
         "name": "expire approved senders", "next_run_time": now},
    ]
    if settings.tmems_url:
        jobs.append({"func": _logged("tmems", lambda: poll_tmems(store, settings)),
                     "trigger": IntervalTrigger(minutes=settings.tmems_poll_minutes), "id": "tmems-poll",
                     "name": "poll Trend Micro Email Security", "next_run_time": now})
    return jobs
