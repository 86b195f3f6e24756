"""Housekeeping the scheduler runs: retention (30 days by default) and PostgreSQL day partitions ahead of time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config import Settings
from bot.store import Store
from bot.timeutil import utcnow
from storage import partitions, queries

log = logging.getLogger(__name__)


def purge_expired(store: Store, settings: Settings, *, now: datetime | None = None) -> int:
    """Delete events older than the retention; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=settings.retention_days)
    with store.session() as session:
        removed = queries.purge_older_than(session, cutoff)
    log.info("retention: removed %d events older than %s", removed, cutoff.isoformat())
    return removed


def prepare_partitions(store: Store, *, now: datetime | None = None, days_ahead: int = 3) -> int:
    """Create the next days' partitions (PostgreSQL) so ingestion rarely has to; returns how many were made."""
    with store.engine.begin() as conn:
        if not partitions.is_partitioned(conn):
            return 0
        created = partitions.ensure_ahead(conn, (now or utcnow()).date(), days_ahead=days_ahead)
    if created:
        log.info("partitions: created %s", ", ".join(d.isoformat() for d in created))
    return len(created)
