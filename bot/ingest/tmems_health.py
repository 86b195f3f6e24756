"""How the TMEMS source is doing: every poll's outcome, the back-off of `bouncebot serve`, one line for people.

Every poll (the bot's, or `bouncebot ingest tmems`) records its outcome in the cursor table (source `tmems`,
stream `health`), so any instance, App Home and the digest read the same state. A failing poll doubles the
wait before the bot's next one (the poll interval, then 2x, 4x ... at most an hour): a service that refuses us
or cannot be reached is not hammered every few minutes, and is tried again without anyone restarting anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.ingest.tmems import PollSummary, poll_once
from bot.ingest.tmems_map import SOURCE
from bot.store import Store
from bot.timeutil import utcnow
from storage import cursors

log = logging.getLogger(__name__)

HEALTH_STREAM = "health"
MAX_BACKOFF = timedelta(hours=1)
#: A source whose last poll is older than this many poll intervals is not being polled (is the bot running?).
STALE_INTERVALS = 3
NAME = "Trend Micro Email Security"


@dataclass(frozen=True)
class Health:
    """The state after the last poll."""

    last_poll: datetime
    last_ok: datetime | None
    failures: int              # polls in a row that ended with an error (0: the last one was fine)
    failing_since: datetime | None
    error: str | None          # the last poll's first error, one line
    next_try: datetime | None  # the bot polls again no earlier than this
    poll_minutes: int
    lost_data: bool = False    # the last poll found a stretch older than the API's 72 hours

    def to_state(self) -> dict[str, Any]:
        def t(value: datetime | None) -> str | None:
            return value.isoformat() if value else None
        return {"last_poll": t(self.last_poll), "last_ok": t(self.last_ok), "failures": self.failures,
                "failing_since": t(self.failing_since), "error": self.error, "next_try": t(self.next_try),
                "poll_minutes": self.poll_minutes, "lost_data": self.lost_data}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Health | None:
        def t(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if isinstance(value, str) else None
        last_poll = t(state.get("last_poll"))
        if last_poll is None:
            return None
        return cls(last_poll=last_poll, last_ok=t(state.get("last_ok")), failures=int(state.get("failures") or 0),
                   failing_since=t(state.get("failing_since")), error=state.get("error"),
                   next_try=t(state.get("next_try")), poll_minutes=int(state.get("poll_minutes") or 5),
                   lost_data=bool(state.get("lost_data")))


def backoff(failures: int, poll_minutes: int) -> timedelta:
    """The wait before the next scheduled poll: the interval, doubled for every failure after the first."""
    if failures <= 1:
        return timedelta(minutes=poll_minutes)
    return min(timedelta(minutes=poll_minutes) * 2 ** min(failures - 1, 16), MAX_BACKOFF)


def load(conn: Connection | Session) -> Health | None:
    saved = cursors.load(conn, SOURCE, HEALTH_STREAM)
    return Health.from_state(dict(saved.state or {})) if saved is not None else None


def after(previous: Health | None, summary: PollSummary, now: datetime, poll_minutes: int) -> Health:
    """The state a poll leaves."""
    if summary.errors:
        failures = (previous.failures if previous else 0) + 1
        since = previous.failing_since if previous and previous.failures else now
        return Health(now, previous.last_ok if previous else None, failures, since,
                      summary.errors[0].splitlines()[0][:500], now + backoff(failures, poll_minutes), poll_minutes,
                      bool(summary.gaps))
    return Health(now, now, 0, None, None, now + backoff(0, poll_minutes), poll_minutes, bool(summary.gaps))


def record(store: Store, summary: PollSummary, settings: Settings, now: datetime | None = None) -> Health | None:
    """Save what a poll did; a store that refuses is logged, never raised (the poll's own result stands)."""
    now = now or utcnow()
    try:
        with store.session() as session:
            health = after(load(session), summary, now, max(1, settings.tmems_poll_minutes))
            cursors.save(session, SOURCE, HEALTH_STREAM, health.to_state())
            session.commit()
        return health
    except SQLAlchemyError as exc:
        log.error("TMEMS: the poll's health could not be saved: %s", str(exc).splitlines()[0][:300])
        return None


def scheduled_poll(store: Store, settings: Settings, *, now: datetime | None = None) -> PollSummary | None:
    """What `bouncebot serve` runs every tmems_poll_minutes: a poll, unless a failing source's back-off says to
    wait; the outcome is recorded either way (None: skipped, still backing off)."""
    now = now or utcnow()
    with store.session() as session:
        health = load(session)
    if health is not None and health.failures and health.next_try is not None and now < health.next_try:
        log.debug("TMEMS: failing since %s; next try at %s", health.failing_since, health.next_try)
        return None
    summary = poll_once(store, settings, now=now)
    record(store, summary, settings, now)
    return summary


def _ago(then: datetime, now: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    return f"{minutes // 60} h ago" if minutes < 48 * 60 else f"{minutes // 1440} days ago"


def health_text(health: Health, now: datetime) -> str:
    """One line for people: working, failing (since when, why, next try), or not polled lately."""
    if health.failures:
        last_ok = (f"last good poll {health.last_ok:%Y-%m-%d %H:%M} UTC" if health.last_ok
                   else "no poll has worked yet")
        nxt = f"; next try {health.next_try:%H:%M} UTC" if health.next_try else ""
        return (f"{NAME}: FAILING since {health.failing_since or health.last_poll:%Y-%m-%d %H:%M} UTC "
                f"({health.failures} poll{'s' if health.failures != 1 else ''} in a row, {last_ok}): "
                f"{health.error}{nxt}")
    if now - health.last_poll > timedelta(minutes=health.poll_minutes * STALE_INTERVALS):
        return (f"{NAME}: not polled since {health.last_poll:%Y-%m-%d %H:%M} UTC ({_ago(health.last_poll, now)}): "
                "is `bouncebot serve` running with BOUNCEBOT_TMEMS_URL set?")
    text = f"{NAME}: OK, last poll {health.last_poll:%H:%M} UTC ({_ago(health.last_poll, now)})"
    if health.lost_data:
        text += "; it found LOST DATA older than the API's 72 hours (see the bot's log)"
    return text


def source_health_lines(session: Session, now: datetime | None = None) -> list[str]:
    """The log sources' health for App Home and the digest: one line per source that has been polled (none
    when TMEMS was never set up, so nothing is shown)."""
    health = load(session)
    return [health_text(health, now or utcnow())] if health is not None else []
