"""Our own outbound IPs on DNS block lists: checked live for each digest, compared with the last posted one.

The checker is bot.blacklists (BlacklistChecker.from_settings(settings).check(ips)); answers are
listed / not_listed / unknown, and unknown stays unknown. If the checker cannot run, the section says so
instead of pretending the IPs are clean.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bot.config import Settings
from bot.store import Store
from storage.models import BlacklistSnapshot

log = logging.getLogger(__name__)

LISTED, NOT_LISTED, UNKNOWN = "listed", "not_listed", "unknown"

#: ips -> one JSON-like dict per (ip, zone): {"target", "zone", "result", "codes", "txt", "why", ...}
CheckFn = Callable[[list[str]], Iterable[dict[str, Any]]]


@dataclass(frozen=True)
class ZoneAnswer:
    ip: str
    zone: str
    result: str
    detail: str = ""     # return codes / TXT, or why it is unknown


@dataclass(frozen=True)
class Change:
    ip: str
    zone: str
    before: str          # listed | not_listed | unknown | new
    after: str


@dataclass
class IpStatusReport:
    ips: tuple[str, ...] = ()
    answers: list[ZoneAnswer] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    previous_at: datetime | None = None
    note: str = ""       # why there are no answers (no IPs configured, checker missing or failing)

    @property
    def listed(self) -> list[ZoneAnswer]:
        return [a for a in self.answers if a.result == LISTED]

    @property
    def unknown(self) -> list[ZoneAnswer]:
        return [a for a in self.answers if a.result == UNKNOWN]

    def to_json(self) -> dict[str, Any]:
        return {"ips": list(self.ips), "note": self.note,
                "previous_at": self.previous_at.isoformat() if self.previous_at else None,
                "answers": [vars(a).copy() for a in self.answers], "changes": [vars(c).copy() for c in self.changes]}


def default_check(settings: Settings) -> CheckFn | str:
    """The real checker, or the reason it is not available."""
    try:
        from bot.blacklists import BlacklistChecker  # imported here: optional until it lands
    except ImportError as exc:
        return f"the blacklist checker is not available in this build ({exc.name or exc})"
    checker = BlacklistChecker.from_settings(settings)
    return lambda ips: [r.to_json() for r in checker.check(ips)]


def _answer(raw: dict[str, Any]) -> ZoneAnswer | None:
    result = str(raw.get("result") or UNKNOWN)
    if result == "not_applicable":
        return None
    if result not in (LISTED, NOT_LISTED):
        result = UNKNOWN
    if result == LISTED:
        detail = " ".join(str(c) for c in raw.get("codes") or ()) + (f" {raw['txt']}" if raw.get("txt") else "")
    else:
        detail = str(raw.get("why") or "")
    return ZoneAnswer(str(raw.get("target")), str(raw.get("zone")), result, detail.strip()[:300])


def previous_snapshot(store: Store, digest: str) -> tuple[datetime | None, dict[tuple[str, str], str]]:
    """The answers saved with the last posted digest of this name."""
    with store.session() as session:
        last = session.scalar(select(func.max(BlacklistSnapshot.taken_at)).where(BlacklistSnapshot.digest == digest))
        if last is None:
            return None, {}
        rows = session.execute(select(BlacklistSnapshot.ip, BlacklistSnapshot.zone, BlacklistSnapshot.result)
                               .where(BlacklistSnapshot.digest == digest, BlacklistSnapshot.taken_at == last))
        return last, {(ip, zone): result for ip, zone, result in rows}


def outbound_status(store: Store, settings: Settings, digest: str, check: CheckFn | None = None) -> IpStatusReport:
    """Check our outbound IPs now and compare with the last posted digest's answers."""
    ips = tuple(settings.outbound_ips)
    if not ips:
        return IpStatusReport(note="no outbound IPs configured (BOUNCEBOT_OUTBOUND_IPS)")
    if check is None:
        found = default_check(settings)
        if isinstance(found, str):
            return IpStatusReport(ips=ips, note=found)
        check = found
    try:
        answers = [a for a in (_answer(raw) for raw in check(list(ips))) if a is not None]
    except Exception as exc:  # the digest must still go out; the failure is shown, not hidden
        log.warning("outbound IP blacklist check failed: %s", exc)
        return IpStatusReport(ips=ips, note=f"the blacklist check failed: {type(exc).__name__}: {exc}"[:300])
    previous_at, before = previous_snapshot(store, digest)
    changes = []
    if previous_at is not None:
        for answer in answers:
            was = before.get((answer.ip, answer.zone), "new")
            if was != answer.result:
                changes.append(Change(answer.ip, answer.zone, was, answer.result))
    return IpStatusReport(ips=ips, answers=answers, changes=changes, previous_at=previous_at)


def save_snapshot(store: Store, digest: str, report: IpStatusReport, now: datetime) -> None:
    """Keep what this (posted) digest saw, for the next one to compare with."""
    if not report.answers:
        return
    with store.session() as session:
        session.add_all(BlacklistSnapshot(digest=digest, taken_at=now, ip=a.ip, zone=a.zone, result=a.result,
                                          detail={"detail": a.detail} if a.detail else None)
                        for a in report.answers)
        session.commit()
