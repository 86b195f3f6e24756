"""Support cases opened from a diagnosis: stored with a snapshot of it, closed and reopened by buttons.

Like approvals, every change is a conditional write: opening is keyed by the request (a double submit stores
one case), closing only changes an open case and reopening only a closed one, so a double click is harmless
and the second click learns who already did it. Every change is audited; the services commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import audit
from bot.timeutil import utcnow
from storage.models import SupportCase

OPEN = "open"
CLOSED = "closed"
STATUSES: tuple[str, ...] = (OPEN, CLOSED)

_TITLE_MAX = 255
_TARGET_MAX = 998


class CaseError(ValueError):
    """Bad input for a case (no target, no title, unknown status); one line for the user."""


class UnknownCase(LookupError):
    """No case with that id."""


@dataclass(frozen=True)
class CaseChange:
    """changed: this call closed (or reopened) the case. Otherwise `by` already had, and `case` shows it."""

    changed: bool
    case: SupportCase
    by: str | None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def get_case(session: Session, case_id: int) -> SupportCase | None:
    return session.get(SupportCase, case_id, populate_existing=True)


def _require(session: Session, case_id: int) -> SupportCase:
    case = get_case(session, case_id)
    if case is None:
        raise UnknownCase(f"no case #{case_id}")
    return case


def list_cases(session: Session, *, status: str | None = None, limit: int | None = 100) -> list[SupportCase]:
    """Cases newest first; status "open", "closed" or None for all."""
    stmt = select(SupportCase)
    if status is not None:
        if status not in STATUSES:
            raise CaseError(f"unknown case status {status!r} (open or closed)")
        stmt = stmt.where(SupportCase.status == status)
    stmt = stmt.order_by(SupportCase.created_at.desc(), SupportCase.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def open_case(
    session: Session,
    *,
    target: str,
    title: str,
    description: str | None = None,
    snapshot: dict[str, Any] | None = None,
    opened_by: str,
    request_key: str | None = None,
    channel: str | None = None,
    thread_ts: str | None = None,
    now: datetime | None = None,
) -> tuple[SupportCase, bool]:
    """Store a case with a snapshot of the diagnosis (plain JSON: datetimes become ISO strings).

    Returns (case, created). With a request_key already used, nothing is stored and the existing case comes
    back with created False. Audited ("case.open" done / duplicate). Commits.
    """
    target, title = (target or "").strip(), " ".join((title or "").split())
    if not target:
        raise CaseError("a case needs a target (the address, domain, IP or message-id it is about)")
    if not title:
        raise CaseError("a case needs a title")
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(SupportCase)
    stmt = insert.values(
        target=_clip(target, _TARGET_MAX), title=_clip(title, _TITLE_MAX), description=description, status=OPEN,
        snapshot=audit.jsonable(snapshot), opened_by=opened_by, created_at=now, channel=channel,
        thread_ts=thread_ts, request_key=request_key,
    ).on_conflict_do_nothing().returning(SupportCase.id)
    new_id = session.execute(stmt).scalar()
    if new_id is None:
        existing = session.scalars(select(SupportCase).where(SupportCase.request_key == request_key)
                                   .execution_options(populate_existing=True)).one()
        audit.record(session, actor=opened_by, action=audit.CASE_OPEN, target=existing.target,
                     outcome=audit.DUPLICATE, detail={"case_id": existing.id, "opened_by": existing.opened_by},
                     channel=channel, message_ts=thread_ts, time=now)
        session.commit()
        return existing, False
    audit.record(session, actor=opened_by, action=audit.CASE_OPEN, target=target, outcome=audit.DONE,
                 detail={"case_id": new_id, "title": title}, channel=channel, message_ts=thread_ts, time=now)
    session.commit()
    return _require(session, new_id), True


def _change(session: Session, *, case_id: int, actor: str, to: str, channel: str | None,
            message_ts: str | None, now: datetime | None) -> CaseChange:
    now = now or utcnow()
    _require(session, case_id)
    if to == CLOSED:
        values: dict[str, Any] = {"status": CLOSED, "closed_at": now, "closed_by": actor}
        action, from_status = audit.CASE_CLOSE, OPEN
    else:
        values = {"status": OPEN, "reopened_at": now, "reopened_by": actor}
        action, from_status = audit.CASE_REOPEN, CLOSED
    result = session.execute(
        update(SupportCase).where(SupportCase.id == case_id, SupportCase.status == from_status)
        .values(**values).execution_options(synchronize_session=False)
    )
    changed = result.rowcount == 1
    case = _require(session, case_id)
    by = actor if changed else (case.closed_by if to == CLOSED else case.reopened_by or case.opened_by)
    audit.record(session, actor=actor, action=action, target=case.target,
                 outcome=audit.DONE if changed else audit.DUPLICATE, detail={"case_id": case_id, "by": by},
                 channel=channel, message_ts=message_ts, time=now)
    session.commit()
    return CaseChange(changed, case, by)


def close_case(session: Session, *, case_id: int, actor: str, channel: str | None = None,
               message_ts: str | None = None, now: datetime | None = None) -> CaseChange:
    """Close an open case; on a closed one nothing changes and `by` is who closed it. Audited; commits."""
    return _change(session, case_id=case_id, actor=actor, to=CLOSED, channel=channel, message_ts=message_ts,
                   now=now)


def reopen_case(session: Session, *, case_id: int, actor: str, channel: str | None = None,
                message_ts: str | None = None, now: datetime | None = None) -> CaseChange:
    """Reopen a closed case; on an open one nothing changes and `by` is who reopened it (or opened it, if it
    was never closed). Audited; commits."""
    return _change(session, case_id=case_id, actor=actor, to=OPEN, channel=channel, message_ts=message_ts,
                   now=now)


def may_change(case: SupportCase, actor: str, *, is_approver: bool) -> bool:
    """Closing or reopening a case is for the person who opened it and for approvers; opening one is for
    every member (reporting a problem is the support team's job)."""
    return is_approver or actor == case.opened_by


def refuse_change(session: Session, *, case_id: int, actor: str, close: bool, channel: str | None = None,
                  message_ts: str | None = None) -> None:
    """Audit a refused close or reopen. Commits."""
    audit.record(session, actor=actor, action=audit.CASE_CLOSE if close else audit.CASE_REOPEN,
                 target=f"case #{case_id}", outcome=audit.REFUSED, channel=channel, message_ts=message_ts)
    session.commit()


def set_case_message(session: Session, *, case_id: int, message_ts: str) -> SupportCase:
    """Remember the case's own message in the cases channel (so its buttons can update it). Commits."""
    session.execute(update(SupportCase).where(SupportCase.id == case_id).values(case_message_ts=message_ts)
                    .execution_options(synchronize_session=False))
    session.commit()
    return _require(session, case_id)


def case_dict(case: SupportCase) -> dict[str, Any]:
    """A plain, JSON-ready view of a case (webhook payload, `bouncebot cases show --json`)."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": case.id, "target": case.target, "title": case.title, "description": case.description,
        "status": case.status, "opened_by": case.opened_by, "created_at": iso(case.created_at),
        "closed_at": iso(case.closed_at), "closed_by": case.closed_by, "reopened_at": iso(case.reopened_at),
        "reopened_by": case.reopened_by, "channel": case.channel, "thread_ts": case.thread_ts,
        "case_message_ts": case.case_message_ts, "snapshot": case.snapshot,
    }
