"""The audit log: who approved, refused, removed, opened, closed or forwarded what, when, from which message.

`record` only adds the entry to the session; the domain service that calls it commits it together with the
change it describes, so an audited change and its entry are stored or lost together.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.timeutil import utcnow
from storage.models import AuditEntry

# Actions (what was attempted).
APPROVE = "approve"
REMOVE = "remove"
EXPIRE = "expire"
CASE_OPEN = "case.open"
CASE_CLOSE = "case.close"
CASE_REOPEN = "case.reopen"
CASE_FORWARD = "case.forward"

# Outcomes (what came of it).
DONE = "done"
REFUSED = "refused"
DUPLICATE = "duplicate"
FAILED = "failed"
OUTCOMES = (DONE, REFUSED, DUPLICATE, FAILED)

#: The actor of changes bouncebot makes by itself (expiry).
SYSTEM = "system"

_MAX = {"actor": 64, "action": 64, "target": 998, "outcome": 32, "channel": 32, "message_ts": 32}


def _clip(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= _MAX[name] else value[: _MAX[name] - 1] + "…"


def _default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def jsonable(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """Datetimes as ISO 8601, other objects as strings: a JSON column stores plain JSON only."""
    if detail is None:
        return None
    return json.loads(json.dumps(detail, default=_default))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None,
    outcome: str,
    detail: dict[str, Any] | None = None,
    channel: str | None = None,
    message_ts: str | None = None,
    time: datetime | None = None,
) -> AuditEntry:
    """Add one audit entry to the session (flushed, not committed: the caller commits with its change)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r} (one of {', '.join(OUTCOMES)})")
    entry = AuditEntry(
        time=time or utcnow(),
        actor=_clip("actor", actor) or SYSTEM,
        action=_clip("action", action) or "",
        target=_clip("target", target),
        outcome=outcome,
        detail=jsonable(detail),
        channel=_clip("channel", channel),
        message_ts=_clip("message_ts", message_ts),
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    since: datetime | None = None,
    limit: int | None = 500,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditEntry]:
    """Entries newest first, optionally since a time and for one actor, action or target."""
    stmt = select(AuditEntry)
    if since is not None:
        stmt = stmt.where(AuditEntry.time >= since)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if target is not None:
        stmt = stmt.where(AuditEntry.target == target)
    stmt = stmt.order_by(AuditEntry.time.desc(), AuditEntry.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    """A plain, JSON-ready view of an entry (for `bouncebot audit --json` and App Home)."""
    return {
        "id": entry.id, "time": entry.time.isoformat(), "actor": entry.actor, "action": entry.action,
        "target": entry.target, "outcome": entry.outcome, "detail": entry.detail,
        "channel": entry.channel, "message_ts": entry.message_ts,
    }
