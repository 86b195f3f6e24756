"""Approved senders: who may approve, the approval itself (a conditional write), removal, expiry, lookup.

A Slack button is an idempotency key. `approve` inserts with ON CONFLICT DO NOTHING against two unique
indexes: the request key (a double click, or a retried request) and `active_key` (one active approval per
pattern, so two approvers clicking at once on two messages still yield one row). Whoever gets no row back
lost, and is told who won. Every attempt is audited; the services commit their own transaction, because
the winner is only decided at commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import audit
from bot.config import Settings
from bot.targets import is_address, is_domain
from bot.timeutil import utcnow
from storage.models import ApprovedSender, AuditEntry

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("address", "domain")
EXPORT = "export"  # audit action of a failed automatic export

#: A members lookup for the approver user group: called with the group id, or the members themselves.
GroupMembers = Callable[[str], Collection[str]] | Collection[str]

_RETRIES = 5


class ApprovalError(ValueError):
    """Bad input for an approval (not an address or domain, an expiry in the past); one line for the user."""


class UnknownApproval(LookupError):
    """No approval with that id or pattern."""


@dataclass(frozen=True)
class ApprovalOutcome:
    """created: this call stored the approval. Otherwise `approval` is the one that was already there (same
    request, or the same pattern active) and `winner_actor` approved it."""

    created: bool
    approval: ApprovedSender
    winner_actor: str
    export_error: str | None = None


@dataclass(frozen=True)
class RemovalOutcome:
    """removed: this call removed it. Otherwise `removed_by` had already removed it."""

    removed: bool
    approval: ApprovedSender
    removed_by: str | None
    export_error: str | None = None


# --- who may approve ---------------------------------------------------------------------------------------

def is_approver(user_id: str | None, *, settings: Settings, group_members: GroupMembers | None = None) -> bool:
    """True for a user in Settings.approvers or a member of Settings.approver_group.

    `group_members` is what the Slack layer knows of the group: a callable taking the group id (wrap the
    usergroups.users.list call in bot.ttlcache.TTLCache) or a collection of user ids. Without it, group
    membership cannot be checked and only the configured ids count. A failing lookup raises to the caller.
    """
    if not user_id:
        return False
    if user_id in settings.approvers:
        return True
    if not settings.approver_group or group_members is None:
        return False
    members = group_members(settings.approver_group) if callable(group_members) else group_members
    return user_id in members


# --- patterns ----------------------------------------------------------------------------------------------

def normalize_pattern(pattern: str, kind: str | None = None) -> tuple[str, str]:
    """(pattern, kind) in stored form: lowercase, `*@example.com`/`@example.com` -> domain `example.com`.

    kind None infers it (an address has an @). kind "domain" with an address approves its whole domain.
    """
    raw = (pattern or "").strip()
    text = raw.lower().rstrip(".")
    if text.startswith("*@"):
        text, inferred = text[2:], "domain"
    elif text.startswith("@"):
        text, inferred = text[1:], "domain"
    elif text.startswith("*."):
        text, inferred = text[2:], "domain"
    else:
        inferred = "address" if "@" in text else "domain"
    kind = (kind or inferred).strip().lower()
    if kind not in KINDS:
        raise ApprovalError(f"unknown kind {kind!r} (address or domain)")
    if kind == "domain" and inferred == "address":
        text = text.rpartition("@")[2]
    if kind == "address" and inferred == "domain":
        raise ApprovalError(f"{raw!r} is a domain, not an address")
    valid = is_address(text) if kind == "address" else is_domain(text)
    if not valid or len(text) > 320:
        raise ApprovalError(f"not a sender address or domain: {raw!r}")
    return text, kind


def _active_key(pattern: str, kind: str) -> str:
    return f"{kind}:{pattern}"


def _active(now: datetime) -> ColumnElement[bool]:
    return ApprovedSender.removed_at.is_(None) & or_(
        ApprovedSender.expires_at.is_(None), ApprovedSender.expires_at > now
    )


def status(approval: ApprovedSender, now: datetime | None = None) -> str:
    """active | expired | removed."""
    if approval.removed_at is not None:
        return "removed"
    if approval.expires_at is not None and approval.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


# --- queries -----------------------------------------------------------------------------------------------

def list_active(session: Session, now: datetime | None = None) -> list[ApprovedSender]:
    """Approvals in force now (not removed, not expired), by kind and pattern."""
    stmt = select(ApprovedSender).where(_active(now or utcnow()))
    stmt = stmt.order_by(ApprovedSender.kind, ApprovedSender.pattern, ApprovedSender.id)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def list_approvals(session: Session, *, limit: int | None = 500) -> list[ApprovedSender]:
    """Every approval, removed and expired too, newest first (history)."""
    stmt = select(ApprovedSender).order_by(ApprovedSender.created_at.desc(), ApprovedSender.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def get_approval(session: Session, approval_id: int) -> ApprovedSender | None:
    return session.get(ApprovedSender, approval_id, populate_existing=True)


def _parent_domains(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def is_approved(session: Session, sender_address: str, now: datetime | None = None) -> ApprovedSender | None:
    """The active approval covering a sender address (or a bare domain), most specific first: the address,
    then its domain, then parent domains (an approved domain covers its subdomains, as Postfix's access
    maps do by default). None when no approval covers it."""
    text = (sender_address or "").strip().strip("<>").lower().rstrip(".")
    if not text:
        return None
    address, _, domain = text.rpartition("@") if "@" in text else ("", "", text)
    conditions = []
    if address:
        conditions.append((ApprovedSender.kind == "address") & (ApprovedSender.pattern == text))
    domains = _parent_domains(domain) if domain else []
    if domains:
        conditions.append((ApprovedSender.kind == "domain") & ApprovedSender.pattern.in_(domains))
    if not conditions:
        return None
    stmt = select(ApprovedSender).where(_active(now or utcnow()), or_(*conditions))
    found = list(session.scalars(stmt))
    found.sort(key=lambda a: (a.kind != "address", -len(a.pattern), a.id))
    return found[0] if found else None


# --- changes -----------------------------------------------------------------------------------------------

def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(ApprovedSender)


def _release_expired(session: Session, *, now: datetime, key: str | None = None) -> list[Any]:
    """Clear active_key of expired approvals (of one pattern, or all); each row is released exactly once,
    by whoever's UPDATE got it back, and audited by that caller."""
    stmt = update(ApprovedSender).where(
        ApprovedSender.active_key.is_not(None) if key is None else ApprovedSender.active_key == key,
        ApprovedSender.expires_at.is_not(None),
        ApprovedSender.expires_at <= now,
        ApprovedSender.removed_at.is_(None),
    ).values(active_key=None).returning(ApprovedSender.id, ApprovedSender.kind, ApprovedSender.pattern,
                                        ApprovedSender.approved_by, ApprovedSender.expires_at)
    rows = list(session.execute(stmt.execution_options(synchronize_session=False)))
    for row in rows:
        audit.record(session, actor=audit.SYSTEM, action=audit.EXPIRE, target=row.pattern, outcome=audit.DONE,
                     detail={"approval_id": row.id, "kind": row.kind, "approved_by": row.approved_by,
                             "expires_at": row.expires_at}, time=now)
    return rows


def _export_after_change(session: Session, settings: Settings | None, now: datetime) -> str | None:
    """Rewrite the configured export; a failure is logged, audited and returned, never raised: the approval
    is stored either way and the next change (or `bouncebot approved export`) writes the map again."""
    if settings is None or not settings.approved_export_path:
        return None
    from bot import export  # export reads list_active from here

    try:
        export.export_configured(session, settings, now=now)
    except export.ExportError as exc:
        log.warning("approved senders export failed: %s", exc)
        audit.record(session, actor=audit.SYSTEM, action=EXPORT, target=settings.approved_export_path,
                     outcome=audit.FAILED, detail={"error": str(exc)})
        session.commit()
        return str(exc)
    return None


def approve(
    session: Session,
    *,
    pattern: str,
    kind: str | None = None,
    reason: str | None,
    actor: str,
    expires_at: datetime | None = None,
    request_key: str | None = None,
    channel: str | None = None,
    message_ts: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> ApprovalOutcome:
    """Approve a sender address or domain once per request and once per active pattern (see the module doc).

    A reason is required (blank is refused: ApprovalError). Does not check who the actor is: the caller checks
    is_approver and calls `refuse` for anyone else. Commits. With settings, rewrites the configured export after
    a new approval.
    """
    pattern, kind = normalize_pattern(pattern, kind)
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalError("an approval needs a reason (it is shown in the export and the audit log)")
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise ApprovalError(f"the expiry {expires_at:%Y-%m-%d %H:%M} UTC is not in the future")
    key = _active_key(pattern, kind)
    where = {"channel": channel, "message_ts": message_ts}
    for _attempt in range(_RETRIES):
        _release_expired(session, now=now, key=key)
        stmt = _insert(session).values(
            pattern=pattern, kind=kind, reason=reason, approved_by=actor, created_at=now, expires_at=expires_at,
            request_key=request_key, active_key=key,
        ).on_conflict_do_nothing().returning(ApprovedSender.id)
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            audit.record(session, actor=actor, action=audit.APPROVE, target=pattern, outcome=audit.DONE,
                         detail={"approval_id": new_id, "kind": kind, "reason": reason, "expires_at": expires_at,
                                 "request_key": request_key}, time=now, **where)
            session.commit()
            approval = get_approval(session, new_id)
            assert approval is not None
            return ApprovalOutcome(True, approval, actor, _export_after_change(session, settings, now))
        winner = _winner(session, request_key=request_key, key=key)
        if (winner is not None and request_key is not None and winner.request_key == request_key
                and status(winner, now) != "active"):
            # The same button again after its approval was removed or expired: a new decision, not a double
            # click. Free the key (conditionally: one retry wins) and try again.
            session.execute(update(ApprovedSender)
                            .where(ApprovedSender.id == winner.id, ApprovedSender.request_key == request_key)
                            .values(request_key=None).execution_options(synchronize_session=False))
            session.commit()
            continue
        if winner is not None:
            audit.record(session, actor=actor, action=audit.APPROVE, target=pattern, outcome=audit.DUPLICATE,
                         detail={"approval_id": winner.id, "approved_by": winner.approved_by,
                                 "request_key": request_key}, time=now, **where)
            session.commit()
            return ApprovalOutcome(False, winner, winner.approved_by)
        session.rollback()  # the row that won was removed or expired meanwhile: try again
    raise RuntimeError(f"could not approve {pattern} after {_RETRIES} attempts (conflicting changes)")


def _winner(session: Session, *, request_key: str | None, key: str) -> ApprovedSender | None:
    if request_key is not None:
        found = session.scalars(select(ApprovedSender).where(ApprovedSender.request_key == request_key)
                                .execution_options(populate_existing=True)).first()
        if found is not None:
            return found
    return session.scalars(select(ApprovedSender).where(ApprovedSender.active_key == key)
                           .execution_options(populate_existing=True)).first()


def refuse(
    session: Session,
    *,
    actor: str,
    pattern: str | None,
    kind: str | None = None,
    reason: str | None = None,
    channel: str | None = None,
    message_ts: str | None = None,
    detail: dict[str, Any] | None = None,
    action: str = audit.APPROVE,
) -> AuditEntry:
    """Audit an attempt by someone who is not an approver (outcome "refused"); action "approve" by default,
    audit.REMOVE for a refused removal. Commits."""
    entry = audit.record(session, actor=actor, action=action, target=pattern, outcome=audit.REFUSED,
                         detail={"kind": kind, "reason": reason, **(detail or {})},
                         channel=channel, message_ts=message_ts)
    session.commit()
    return entry


def _find_for_removal(session: Session, approval_id: int | None, pattern: str | None) -> ApprovedSender:
    if approval_id is not None:
        found = get_approval(session, approval_id)
        if found is None:
            raise UnknownApproval(f"no approved sender with id {approval_id}")
        return found
    if not pattern:
        raise ApprovalError("give an approval id or a pattern to remove")
    text, kind = normalize_pattern(pattern)
    stmt = select(ApprovedSender).where(ApprovedSender.pattern == text, ApprovedSender.kind == kind)
    # Prefer the one not yet removed; else the latest removed one (to say who removed it).
    stmt = stmt.order_by(ApprovedSender.removed_at.is_not(None), ApprovedSender.id.desc())
    found = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if found is None:
        raise UnknownApproval(f"{text} is not an approved sender")
    return found


def remove(
    session: Session,
    *,
    approval_id: int | None = None,
    pattern: str | None = None,
    actor: str,
    channel: str | None = None,
    message_ts: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> RemovalOutcome:
    """Remove an approval by id or pattern, once: a second click learns who removed it. Audited; commits;
    rewrites the configured export. Raises UnknownApproval / ApprovalError."""
    now = now or utcnow()
    target = _find_for_removal(session, approval_id, pattern)
    result = session.execute(
        update(ApprovedSender)
        .where(ApprovedSender.id == target.id, ApprovedSender.removed_at.is_(None))
        .values(removed_at=now, removed_by=actor, active_key=None)
        .execution_options(synchronize_session=False)
    )
    removed = result.rowcount == 1
    approval = get_approval(session, target.id)
    assert approval is not None
    audit.record(session, actor=actor, action=audit.REMOVE, target=approval.pattern,
                 outcome=audit.DONE if removed else audit.DUPLICATE,
                 detail={"approval_id": approval.id, "kind": approval.kind, "removed_by": approval.removed_by},
                 channel=channel, message_ts=message_ts, time=now)
    session.commit()
    export_error = _export_after_change(session, settings, now) if removed else None
    return RemovalOutcome(removed, approval, approval.removed_by, export_error)


def expire_due(session: Session, *, now: datetime | None = None,
               settings: Settings | None = None) -> list[ApprovedSender]:
    """Mark approvals whose expiry has passed as expired (each audited once, by actor "system"), then rewrite
    the configured export. Run it periodically (the scheduler) so the gateway drops them. Commits."""
    now = now or utcnow()
    rows = _release_expired(session, now=now)
    session.commit()
    if rows:
        _export_after_change(session, settings, now)
    return [a for a in (get_approval(session, row.id) for row in rows) if a is not None]
