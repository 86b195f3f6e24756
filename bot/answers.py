"""What the Slack app answers, as (text, blocks), built from bot/ services and renderers, Slack-free.

The listeners in handlers/ decide *when* and *where* to post; this module decides *what*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import approvals, cases
from bot.auth import auth_checker_for
from bot.auth.health import check_health
from bot.config import Settings
from bot.diagnosis import Diagnosis, diagnose
from bot.ingest.tmems_health import source_health_lines
from bot.render import lists
from bot.render.blocks import render_blocks
from bot.render.dns import dns_blocks, dns_text
from bot.render.mrkdwn import fit
from bot.render.text import evidence_line, render_text
from bot.targets import Target
from bot.timeutil import utcnow
from bot.vocab import FAILED_DISPOSITIONS
from storage import queries
from storage.models import Event

#: Fallback `text` of a message is what notifications and screen readers show: keep it short. It is mrkdwn
#: too, so it is escaped like every other text (`fit` cuts before escaping).
MAX_FALLBACK = 3000


@dataclass
class Answer:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: Diagnosis | None = None


def _short(text: str) -> str:
    return fit(text, MAX_FALLBACK)


def diagnosis_answer(session: Session, target: Target, *, settings: Settings, since: datetime | None = None,
                     checker: Any = None, soa_lookup: Any = None, with_actions: bool = True) -> Answer:
    d = diagnose(session, target, settings=settings, since=since, checker=checker, soa_lookup=soa_lookup)
    return Answer(_short(d.verdict.text or render_text(d)), render_blocks(d, with_actions=with_actions), d)


def dns_answer(settings: Settings, target: str, ip: str | None, blacklists: Any = None) -> Answer:
    """`/bounce dns TARGET [IP]`: MX, SPF, DMARC, DKIM, PTR and block lists, one line each with the fix."""
    health = check_health(auth_checker_for(settings), target, ips=[ip] if ip else [], blacklists=blacklists,
                          outbound_ips=settings.outbound_ips).to_json()
    return Answer(_short(dns_text(health)), dns_blocks(health))


def events_answer(session: Session, target: Target, *, settings: Settings, now: datetime | None = None) -> Answer:
    since = (now or utcnow()) - timedelta(days=settings.retention_days)
    rows = queries.events_for(session, target.kind, target.value, since=since, limit=lists.EVENT_ROWS)
    total = sum(queries.count_by_disposition(session, target.kind, target.value, since=since).values())
    return Answer(f"Tracking events for {fit(lists.sender_label(target.value), 300)}: {total}",
                  lists.events_message(target.value, rows, total))


def approved_answer(session: Session, *, can_remove: bool) -> Answer:
    active = approvals.list_active(session)
    return Answer(f"Approved senders: {len(active)}", lists.approved_message(active, can_remove=can_remove))


def cases_answer(session: Session) -> Answer:
    open_cases = cases.list_cases(session, status=cases.OPEN)
    return Answer(f"Open support cases: {len(open_cases)}", lists.cases_message(open_cases))


def case_prefill(d: Diagnosis) -> tuple[str, str]:
    """Title and description for the case modal: the target, the verdict and the evidence."""
    what = f"{d.target_kind.replace('_', '-')} {d.target_value}"
    title = f"Mail {what}: {d.verdict.cause}/{d.verdict.reason}"
    lines = [f"Target: {what}", f"Verdict: {d.verdict.text}", ""]
    for f in d.findings[:3]:
        lines.append(f"{f.cause}/{f.reason}: {f.count} event(s), {f.first_seen:%Y-%m-%d %H:%M} – "
                     f"{f.last_seen:%Y-%m-%d %H:%M} UTC")
        lines += [f"  {evidence_line(e)}" + (f"\n    {e.reply_text[:300]}" if e.reply_text else "")
                  for e in f.evidence[:2]]
    return title, "\n".join(lines)


def blocked_totals(session: Session, day: datetime) -> dict[str, int]:
    """Failed events (rejected, bounced, expired) of one UTC day, by disposition."""
    start = datetime.combine(day.date(), time(0), tzinfo=day.tzinfo)
    stmt = select(Event.disposition, func.count()).where(
        Event.time >= start, Event.time < start + timedelta(days=1),
        Event.disposition.in_([str(d) for d in FAILED_DISPOSITIONS]),
    ).group_by(Event.disposition)
    return {str(disposition): int(count) for disposition, count in session.execute(stmt)}


def home_view(session: Session, *, can_remove: bool, now: datetime | None = None) -> dict[str, Any]:
    yesterday = (now or utcnow()) - timedelta(days=1)
    return lists.home_view(
        approvals=approvals.list_active(session, now), cases=cases.list_cases(session, status=cases.OPEN),
        blocked=blocked_totals(session, yesterday), day=f"{yesterday:%Y-%m-%d}", can_remove=can_remove,
        health=source_health_lines(session, now),
    )
