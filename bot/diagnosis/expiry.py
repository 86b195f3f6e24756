"""Mail the queue gave up on: a final bounce whose cause was temporary.

An expired event (Postfix `status=expired, returned to sender`, a TMEMS "Expired", whatever the source) means the
mail is back with its sender: the verdict is `expired` (cause transient), and its headline says after how long
the retries ended and what the last deferral said. Deferrals of the same target that have no final outcome yet
are still being retried; a target with both says both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from bot.diagnosis.model import Evidence, Finding, Verdict
from bot.diagnosis.model import target_phrase as _phrase
from storage.models import Event
from storage.queries import target_condition

#: A finding of expired mail ranks as a final failure, not as a deferral that may still pass.
EXPIRED_WEIGHT = 0.9
#: Outcomes after which a deferred message x recipient is no longer retried.
_FINAL = ("delivered", "bounced", "expired", "deleted")
#: Retrying deliveries named in the headline, at most.
_NAMED = 3


def retrying(session: Session, kind: str, value: str, *, since: datetime | None, until: datetime | None,
             limit: int = 1000) -> list[dict[str, Any]]:
    """Deferred message x recipient pairs of the target with no later final outcome: still in a queue."""
    later = aliased(Event)
    same_message = or_(and_(Event.queue_id.is_not(None), later.queue_id == Event.queue_id),
                       and_(Event.queue_id.is_(None), later.message_id == Event.message_id))
    settled = exists().where(later.recipient == Event.recipient, later.time >= Event.time,
                             later.disposition.in_(_FINAL), same_message)
    stmt = select(Event.queue_id, Event.message_id, Event.recipient, func.max(Event.time).label("last")).where(
        target_condition(kind, value), Event.disposition == "deferred", ~settled)
    if since is not None:
        stmt = stmt.where(Event.time >= since)
    if until is not None:
        stmt = stmt.where(Event.time < until)
    stmt = stmt.group_by(Event.queue_id, Event.message_id, Event.recipient).limit(limit)
    return [dict(row._mapping) for row in session.execute(stmt)]


def _history_of(session: Session, expired: Evidence) -> tuple[datetime | None, Event | None]:
    """When the expired message x recipient was first seen (its first deferral, for a queue) and its last
    deferral; None where the store holds none."""
    if expired.queue_id:
        same = Event.queue_id == expired.queue_id
    elif expired.message_id:
        same = Event.message_id == expired.message_id
    else:
        return None, None
    earlier = select(Event).where(same, Event.recipient == expired.recipient if expired.recipient else true(),
                                  Event.time <= expired.time, Event.disposition != "expired")
    first = session.scalar(select(func.min(earlier.subquery().c.time)))
    deferral = session.scalars(earlier.where(Event.disposition == "deferred")
                               .order_by(Event.time.desc(), Event.id.desc()).limit(1)).first()
    return first, deferral


def _duration(span: timedelta) -> str:
    """'5 days', '7 hours', '12 minutes', '4 seconds' (rounded; a queue's lifetime is days by default)."""
    seconds = span.total_seconds()
    for unit, size, from_size in (("day", 86400, 1.5 * 86400), ("hour", 3600, 5400), ("minute", 60, 90)):
        if seconds >= from_size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = max(round(seconds), 1)
    return f"{count} second{'s' if count != 1 else ''}"


def expired_verdict(session: Session, finding: Finding, kind: str, value: str, *, since: datetime | None,
                    until: datetime | None) -> Verdict:
    """`expired` (cause transient): returned to the sender after N days of retries, with the last deferral."""
    event = next((e for e in finding.evidence if e.disposition == "expired"), None)
    first, deferral = _history_of(session, event) if event is not None else (None, None)
    to = f" to {event.recipient}" if event is not None and event.recipient else ""
    times = f", {finding.count} deliveries" if finding.count > 1 else ""
    if event is not None and first is not None and first < event.time:
        after = f"after {_duration(event.time - first)} of retries"
    else:
        after = "after its retries (the store does not hold its first attempt)"
    text = (f"Returned to the sender: the queue gave up on mail {_phrase(kind, value)}{to} {after} and returned it "
            f"to the sender (expired{times}).")
    reply = (event.reply_text if event is not None and event.reply_text else None) or (
        deferral.reply_text if deferral is not None else None)
    reason = finding.reason if finding.reason not in ("expired", "undefined") else None
    if reply:
        text += f" The last deferral: {reply}" + (f" ({reason})." if reason else ("" if reply.endswith(".") else "."))
    elif reason:
        text += f" The last deferral was {reason}."
    else:
        text += " The store holds no reply for its deferrals."
    waiting = retrying(session, kind, value, since=since, until=until)
    if waiting:
        names = ", ".join(sorted({w["recipient"] for w in waiting if w["recipient"]})[:_NAMED])
        text += (f" Also {len(waiting)} deferred deliver{'ies' if len(waiting) != 1 else 'y'}"
                 f"{' to ' + names if names else ''} {'have' if len(waiting) != 1 else 'has'} no final outcome yet "
                 "and {} still being retried.".format("are" if len(waiting) != 1 else "is"))
    return Verdict("transient", "expired", text)


__all__ = ["EXPIRED_WEIGHT", "expired_verdict", "retrying"]
