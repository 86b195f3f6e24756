"""The live checks a diagnosis runs: block lists for the IPs and domains it touches, cross-checked against the
zones the rejections named. Unknown stays unknown: the notes say which checks could not be made.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any, Protocol

from bot.blacklists import BlacklistChecker
from bot.blacklists.failures import failure_kind, resolver_problem
from bot.blacklists.names import parse_check_target
from bot.config import Settings
from bot.diagnosis.model import Diagnosis
from bot.diagnosis.runbook import LIVE_RESULTS, NO_LIVE_RESULTS
from bot.events import split_domain
from bot.targets import Target, is_address

MAX_BLACKLIST_IPS = 5
_QUOTED_IP = re.compile(r"\[(\d{1,3}(?:\.\d{1,3}){3})\]")


class ListingResultLike(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class Checker(Protocol):
    """The blacklist checker as the diagnosis uses it (bot.blacklists.BlacklistChecker)."""

    def check(self, targets: Sequence[str]) -> Sequence[ListingResultLike]: ...

    def zone_named(self, text: str) -> str | None:
        """The configured zone a rejection text names ("zen.spamhaus.org", "sbl.spamhaus.org"), if any."""
        ...


def checker_from_settings(settings: Settings) -> Checker:
    return BlacklistChecker.from_settings(settings)


def targets_without_events(target: Target) -> list[str]:
    """What can be checked live even when the store has nothing: the IP, the domain, the sender's domain."""
    if target.kind == "ip":
        return [target.value]
    if target.kind == "domain":
        return [target.value]
    if target.kind == "address" and is_address(target.value):
        return [split_domain(target.value) or ""]
    return []


def _public_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified)


def run_live_checks(d: Diagnosis, checker: Checker | None, settings: Settings, extra: Sequence[str]) -> None:
    """Block-list checks of the IPs and domains the diagnosis touches, cross-checked with what rejections named."""
    if checker is None:
        _no_live_results(d)
        return
    targets: list[str] = [t for t in extra if t]
    for f in d.findings:
        if f.direction == "inbound" and f.cause in ("gateway_reputation", "gateway_policy"):
            targets += f.client_ips[:MAX_BLACKLIST_IPS]
        if f.direction == "outbound" and f.cause in ("remote_blacklist", "remote_policy"):
            targets += list(settings.outbound_ips)
            targets += [ip for e in f.evidence for ip in _QUOTED_IP.findall(e.reply_text or "")]
    if not d.findings and d.target_kind == "ip":
        targets.append(d.target_value)
    unique = [t for t in dict.fromkeys(targets) if _checkable(t) and (not _looks_ip(t) or _public_ip(t)
                                                                       or t == d.target_value)]
    if not unique:
        _no_live_results(d)
        return
    d.blacklists = [r.to_json() for r in checker.check(unique)]
    d.blacklist_notes = _blacklist_notes(d, checker)


def _no_live_results(d: Diagnosis) -> None:
    """No block-list results will follow: the next steps must not promise them "below"."""
    for f in d.findings:
        f.next_steps = [step.replace(LIVE_RESULTS, NO_LIVE_RESULTS) for step in f.next_steps]


def _looks_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _checkable(target: str) -> bool:
    try:
        parse_check_target(target)
    except ValueError:
        return False
    return True


def unknown_note(unknown: list[dict[str, Any]]) -> str:
    """The zones that could not be checked, grouped by the reason (each reason said once, not once per zone)."""
    by_kind: dict[str, tuple[str, set[str]]] = {}
    for r in unknown:
        why = r.get("why") or "no answer"
        by_kind.setdefault(failure_kind(why), (why, set()))[1].add(r["zone"])
    groups = "; ".join(f"{', '.join(sorted(zones))} ({why})" for why, zones in by_kind.values())
    return f"Could not be checked: {groups}. Unknown is neither listed nor clean."


def _blacklist_notes(d: Diagnosis, checker: Checker) -> list[str]:
    notes: list[str] = []
    listed = [r for r in d.blacklists if r.get("result") == "listed"]
    unknown = [r for r in d.blacklists if r.get("result") == "unknown"]
    for r in listed:
        trust = "" if r.get("trustworthy", True) else " (this zone is answering wrongly right now: do not trust it)"
        notes.append(f"{r['target']} is listed on {r['zone']}{trust}.")
    if unknown:
        notes.append(unknown_note(unknown))
        describe = getattr(checker, "resolver_description", None)
        problem = resolver_problem(d.blacklists, describe() if describe else "in use")
        if problem:
            notes.append(problem)
    for f in d.findings:
        if not f.dnsbl_zone:
            continue
        zone = checker.zone_named(f.dnsbl_zone) or f.dnsbl_zone
        live = [r for r in d.blacklists if r.get("zone") == zone]
        if not live:
            notes.append(f"The rejection names {f.dnsbl_zone}, which is not among the zones checked live.")
            continue
        states = ", ".join(f"{r['target']}: {r['result'].replace('_', ' ')}" for r in live)
        notes.append(f"The rejection names {f.dnsbl_zone}; live check now — {states}.")
    if d.blacklists and not listed and not unknown:
        notes.append("Not listed on any zone checked.")
    return notes
