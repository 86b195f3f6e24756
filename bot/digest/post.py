"""Compute, render and post a digest: on demand (`/bounce digest`, `bouncebot digest --post`) or as the
counted daily/weekly run that goes through the claim (bot.digest.claim).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.digest import claim as claims
from bot.digest.chart import render_chart
from bot.digest.content import Digest, compute_digest, needed_days
from bot.digest.ipstatus import CheckFn, outbound_status, save_snapshot
from bot.digest.period import DigestSpec, Period, default_period, parse_clock, resolve_zone, specs_from_settings
from bot.digest.render import render_blocks, summary_mrkdwn
from bot.digest.rollup import purge_before, refresh
from bot.ports import Chat, ChatError
from bot.store import Store

log = logging.getLogger(__name__)

ON_DEMAND = "on-demand"   # the digest name whose IP snapshot an on-demand digest compares with


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    digest: Digest
    chart_uploaded: bool


def build_digest(store: Store, settings: Settings, period: Period | None = None, *, zone: ZoneInfo | None = None,
                 digest_name: str = ON_DEMAND, check: CheckFn | None = None, now: datetime | None = None) -> Digest:
    """The digest's content for a period (default: the previous local day), our IPs checked live."""
    now = now or datetime.now(UTC)
    zone = zone or resolve_zone(settings.digest_timezone)
    period = period or default_period(now, zone)
    status = outbound_status(store, settings, digest_name, check)
    return compute_digest(store, period, zone, local_domains=settings.local_domains, ip_status=status, now=now)


def publish(chat: Chat, channel: str, digest: Digest, *, on_posted: Callable[[str], None] | None = None) -> Posted:
    """Post the message, then the chart in its thread (files upload v2). A failed chart upload is logged and
    reported in the result; the message itself stays posted."""
    ts = chat.post_message(channel, text=summary_mrkdwn(digest), blocks=render_blocks(digest))
    if on_posted is not None:
        on_posted(ts)
    if digest.empty:  # nothing blocked or bounced: nothing to chart
        return Posted(channel, ts, digest, chart_uploaded=False)
    uploaded = False
    with tempfile.TemporaryDirectory(prefix="bouncebot-digest-") as folder:
        try:
            path = render_chart(digest, Path(folder) / f"digest-{digest.period.last.isoformat()}.png")
            chat.upload_file(channel, path, title=f"Blocked and bounced mail, {digest.period.label()}", thread_ts=ts)
            uploaded = True
        except ChatError as exc:
            log.warning("digest chart upload failed (the digest message was posted): %s", exc)
        except Exception:  # the message is out; a chart problem must not make the claim look unposted
            log.exception("digest chart failed (the digest message was posted)")
    return Posted(channel, ts, digest, chart_uploaded=uploaded)


def post_digest(store: Store, settings: Settings, chat: Chat, channel: str, day: date | None = None, *,
                counted: bool = False, check: CheckFn | None = None, now: datetime | None = None) -> Posted | None:
    """Post the digest of local day `day` (default yesterday) to `channel`.

    On demand (`counted=False`, e.g. `/bounce digest 2026-11-29`): always posts, claims nothing. Counted: the
    daily digest of that channel, posted only if this call wins the day's claim; returns None otherwise.
    """
    zone = resolve_zone(settings.digest_timezone)
    now = now or datetime.now(UTC)
    period = Period(day, 1) if day else default_period(now, zone)
    if not counted:
        return publish(chat, channel, build_digest(store, settings, period, zone=zone, check=check, now=now))
    runner = DigestRunner(store, settings, chat, check=check)
    return runner.run(DigestSpec(channel), period.last + timedelta(days=1), now=now)


class DigestRunner:
    """What the scheduler calls: the counted runs of each configured digest, with catch-up of missed ones."""

    def __init__(self, store: Store, settings: Settings, chat: Chat, *, owner: str | None = None,
                 check: CheckFn | None = None, lease: timedelta = claims.DEFAULT_LEASE,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.store, self.settings, self.chat = store, settings, chat
        self.owner = owner or claims.owner_id()
        self.check, self.lease = check, lease
        self.clock = clock or (lambda: datetime.now(UTC))
        self.zone = resolve_zone(settings.digest_timezone)
        self.at = parse_clock(settings.digest_time)
        self.specs = specs_from_settings(settings)
        self.cutoff = timedelta(hours=settings.digest_late_cutoff_hours)

    def run(self, spec: DigestSpec, fire_day: date, *, now: datetime | None = None) -> Posted | None:
        """Claim the run that fires on local date `fire_day` and, if won, post it; None if another has it."""
        now = now or self.clock()
        period = spec.period_for(fire_day)
        won = claims.claim(self.store, spec.name, period.last, self.owner, now, self.lease)
        if won is None:
            return None
        log.info("digest %s for %s claimed by %s%s", spec.name, period.last, self.owner,
                 " (taken over)" if won.taken_over else "")
        sent: list[str] = []

        def on_posted(ts: str) -> None:
            sent.append(ts)
            self._record(won, spec.channel, ts)

        try:
            digest = build_digest(self.store, self.settings, period, zone=self.zone, digest_name=spec.name,
                                  check=self.check, now=now)
            if not claims.renew(self.store, won, self.clock(), self.lease):
                log.warning("digest %s for %s: the claim was taken over while computing; not posting",
                            spec.name, period.last)
                return None
            posted = publish(self.chat, spec.channel, digest, on_posted=on_posted)
        except Exception:
            if not sent:  # nothing went out: let the next catch-up round try again at once
                claims.release(self.store, won)
            raise
        save_snapshot(self.store, spec.name, digest.ip_status, now)
        return posted

    def _record(self, won: claims.Claim, channel: str, ts: str) -> None:
        if not claims.mark_posted(self.store, won, channel, ts, self.clock()):
            log.error("digest %s for %s: posted as %s but the claim was taken over (lease too short?)",
                      won.digest, won.day, ts)

    def scheduled(self, spec: DigestSpec) -> Posted | None:
        """The cron job: post the run that is due now."""
        now = self.clock()
        return self.run(spec, spec.last_fire(now, self.zone, self.at).date(), now=now)

    def catch_up(self) -> list[Posted]:
        """On start-up and every few minutes: post any run missed (restart, outage) within the cut-off."""
        now = self.clock()
        done = []
        for spec in self.specs:
            fire = spec.last_fire(now, self.zone, self.at)
            if now - fire > self.cutoff:
                continue
            run = claims.run_for(self.store, spec.name, spec.period_for(fire.date()).last)
            if run is not None and (run.posted_at is not None or run.lease_until >= now):
                continue
            try:
                posted = self.run(spec, fire.date(), now=now)
            except ChatError as exc:
                log.warning("digest %s: catch-up failed, will retry: %s", spec.name, exc)
                continue
            except Exception:  # one broken digest must not stop the others; logged with its traceback
                log.exception("digest %s: catch-up failed, will retry", spec.name)
                continue
            if posted is not None:
                log.info("digest %s for %s posted late (scheduled %s)", spec.name, posted.digest.period.last,
                         fire.isoformat())
                done.append(posted)
        return done

    def refresh_rollup(self) -> None:
        """Keep the rollup current between digests, so the morning's digest only adds the last minutes."""
        now = self.clock()
        longest = max((s.days for s in self.specs), default=1)
        today = default_period(now, self.zone, longest).shifted(1)
        refresh(self.store.engine, self.zone, needed_days(today), now=now)
        purge_before(self.store.engine, today.last - timedelta(days=max(self.settings.retention_days, 42)))
