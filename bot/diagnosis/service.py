"""diagnose(): read the tracking store (and the live checks) and say what happened and what to do."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import approvals
from bot.config import Settings
from bot.diagnosis.authentication import AuthCheckerLike, run_auth_checks
from bot.diagnosis.contacts import SoaLookup, contacts_for
from bot.diagnosis.expiry import EXPIRED_WEIGHT, expired_verdict
from bot.diagnosis.live import Checker, run_live_checks, targets_without_events
from bot.diagnosis.model import Diagnosis, Evidence, Finding, Verdict
from bot.diagnosis.model import target_phrase as _phrase
from bot.diagnosis.runbook import EXPIRED_STEPS, cause_info
from bot.events import split_domain
from bot.ingest.tmems_map import held_notes
from bot.targets import Target
from bot.timeutil import utcnow
from storage import queries
from storage.models import Event

#: The runbook: the newest part of the gateway's log may not be in mail tracking yet.
INGEST_LAG = timedelta(hours=2)
RECENCY_HALF_LIFE_DAYS = 7.0
EVIDENCE_PER_FINDING = 3
#: Recipients, client IPs and evidence come from at most this many of the newest failures.
SAMPLE_FAILURES = 5000
MAX_RECIPIENTS = 20
MAX_CLIENT_IPS = 10

_RELAY_HOST = re.compile(r"^([^\[\s]+)")
REMOTE_CAUSES = frozenset({"remote_blacklist", "remote_policy", "recipient_unavailable", "invalid_recipient"})


def diagnose(
    session: Session,
    target: Target,
    *,
    settings: Settings,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    checker: Checker | None = None,
    soa_lookup: SoaLookup | None = None,
    auth_checker: AuthCheckerLike | None = None,
) -> Diagnosis:
    """The diagnosis for a target in [since, until); default window: the whole retention."""
    now = now or utcnow()
    # Without an explicit end the window is open: events stamped slightly ahead of our clock still count.
    shown_until = until or now
    since = since or shown_until - timedelta(days=settings.retention_days)
    kind, value = target.kind, target.value
    profile = queries.target_profile(session, kind, value, since=since, until=until)
    if not profile and kind == "address":
        # An address-shaped message-id ("1234.5678@host") is common: try it as one before giving up.
        by_message_id = queries.target_profile(session, "message_id", value, since=since, until=until)
        if by_message_id:
            kind, profile = "message_id", by_message_id
    counts: Counter[str] = Counter()
    for row in profile:
        counts[row["disposition"]] += row["count"]
    newest = queries.newest_event_time(session)
    diagnosis = Diagnosis(
        target_kind=kind, target_value=value, since=since, until=shown_until, summary=_summary(counts),
        verdict=Verdict("unknown", "undefined", ""), findings=[], approved_sender=False, approval=None,
        caveats=_caveats(since, shown_until, now, newest), newest_event=newest, generated_at=now,
    )
    _approval(session, diagnosis, now)
    if not counts:
        diagnosis.verdict = Verdict("unknown", "undefined", f"No mail {_phrase(kind, value)} was found "
                                    f"between {since:%Y-%m-%d %H:%M} and {shown_until:%Y-%m-%d %H:%M} UTC.")
        diagnosis.suggestions = _suggestions(session, target, since, settings)
        run_live_checks(diagnosis, checker, settings, extra=targets_without_events(target))
        return diagnosis
    diagnosis.findings = _findings(session, kind, value, profile, since, until, settings)
    _rank(diagnosis.findings, shown_until)
    _history(diagnosis, profile)
    diagnosis.verdict = _verdict(diagnosis, kind, value, session=session, since=since, until=until)
    diagnosis.caveats[1:1] = held_notes(profile)  # TMEMS's sandbox states: held, not refused
    _nonexistent_recipients(session, diagnosis)
    _contacts(diagnosis, soa_lookup)
    run_live_checks(diagnosis, checker, settings, extra=targets_without_events(target))
    run_auth_checks(diagnosis, settings, live=checker is not None or auth_checker is not None, checker=auth_checker)
    return diagnosis


def _summary(counts: dict[str, int]) -> dict[str, int]:
    total = sum(counts.values())
    summary = {
        "accepted": total - counts.get("rejected", 0),
        "delivered": counts.get("delivered", 0),
        "rejected": counts.get("rejected", 0),
        "bounced": counts.get("bounced", 0),
        "deferred": counts.get("deferred", 0),
        "expired": counts.get("expired", 0),
    }
    other = total - sum(v for k, v in summary.items() if k != "accepted")
    if other:
        summary["other"] = other
    return summary


def _caveats(since: datetime, until: datetime, now: datetime, newest: datetime | None) -> list[str]:
    caveats = [f"Searched {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC."]
    if newest is None:
        caveats.append("The tracking store is empty: nothing has been ingested yet.")
    elif now - newest > INGEST_LAG:
        caveats.append(f"The newest event in the store is from {newest:%Y-%m-%d %H:%M} UTC: anything later has "
                       "not been ingested (yet). Is ingestion running?")
    elif until > now - INGEST_LAG:
        caveats.append(f"Newest event in the store: {newest:%Y-%m-%d %H:%M} UTC. The newest ~2 hours of the "
                       "gateway's log may not be ingested yet.")
    return caveats


def _findings(
    session: Session, kind: str, value: str, profile: list[dict[str, Any]], since: datetime,
    until: datetime | None, settings: Settings,
) -> list[Finding]:
    """Failure groups from the profile; recipients, IPs and evidence from the newest failures (bounded)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in profile:
        if row["disposition"] not in queries.FAILED:
            continue
        key = (row["direction"], row["cause"], row["reason"], row["dnsbl_zone"], row["disposition"] == "expired")
        group = groups.setdefault(key, {"count": 0, "first": row["first"], "last": row["last"]})
        group["count"] += row["count"]
        group["first"] = min(group["first"], row["first"])
        group["last"] = max(group["last"], row["last"])
    sample = queries.recent_failures(session, kind, value, since=since, until=until, limit=SAMPLE_FAILURES)
    recipients: dict[tuple[Any, ...], Counter[str]] = {key: Counter() for key in groups}
    client_ips: dict[tuple[Any, ...], Counter[str]] = {key: Counter() for key in groups}
    newest: dict[tuple[Any, ...], list[tuple[int, datetime]]] = {key: [] for key in groups}
    sampled: Counter[tuple[Any, ...]] = Counter()
    for row in sample:
        key = (row["direction"], row["cause"], row["reason"], row["dnsbl_zone"], row["disposition"] == "expired")
        if key not in groups:  # an event that arrived between the two queries
            continue
        sampled[key] += 1
        if row["recipient"]:
            recipients[key][row["recipient"]] += 1
        if row["client_ip"]:
            client_ips[key][row["client_ip"]] += 1
        if len(newest[key]) < EVIDENCE_PER_FINDING:
            newest[key].append((row["id"], row["time"]))
    events = queries.events_by_id(session, [k for keys in newest.values() for k in keys])
    findings = []
    for key, group in groups.items():
        direction, cause, reason, zone, expired = key
        evidence = [events[i] for i, _ in newest[key] if i in events]
        finding = Finding(
            cause=cause or "unknown", reason=reason or "undefined", direction=direction or "unknown",
            count=group["count"], first_seen=group["first"], last_seen=group["last"],
            recipients=[r for r, _ in recipients[key].most_common(MAX_RECIPIENTS)],
            client_ips=[ip for ip, _ in client_ips[key].most_common(MAX_CLIENT_IPS)],
            dnsbl_zone=zone, evidence=[_evidence(e) for e in evidence],
            next_steps=list(EXPIRED_STEPS if expired else cause_info(cause).next_steps), expired=expired,
        )
        finding.facts = _policy_facts(finding, evidence, settings)
        if kind == "address" and value == "<>":
            finding.facts.insert(0, _null_sender_fact(finding, evidence))
        if sampled[key] < group["count"]:
            finding.facts.append(f"Recipients and IPs are from the newest {sampled[key]:,} of these "
                                 f"{group['count']:,} events.")
        findings.append(finding)
    return findings


def _null_sender_fact(finding: Finding, events: Sequence[Event]) -> str:
    """What null-sender traffic is, and who sent it: bounces and auto-replies come from mail servers."""
    hosts = []
    for e in events:
        host = (f"{e.client_host} [{e.client_ip}]" if e.client_host and e.client_ip
                else e.client_host or e.client_ip or e.relay)
        if host and host not in hosts:
            hosts.append(host)
    what = ("Mail from the null sender <> is a bounce message (a delivery status notification) or an "
            "auto-reply, sent by a mail server about other mail")
    if finding.direction == "outbound":
        return f"{what}: here our own server's bounces or replies, to {', '.join(finding.recipients[:3]) or 'them'}."
    sent_by = f"; these came from {', '.join(hosts[:3])}" if hosts else ""
    return (f"{what}{sent_by}. Bounces for mail nobody here sent (backscatter) are usually safe to refuse; "
            "bounces for our own mail are worth letting through.")


def _evidence(event: Event) -> Evidence:
    return Evidence(
        time=event.time, direction=event.direction, disposition=event.disposition, sender=event.sender,
        recipient=event.recipient, client_ip=event.client_ip, client_host=event.client_host, relay=event.relay,
        smtp_code=event.smtp_code, enhanced_status=event.enhanced_status, reply_text=event.reply_text,
        size=event.size, nrcpt=event.nrcpt, message_id=event.message_id, queue_id=event.queue_id,
        source=event.source,
    )


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _policy_facts(finding: Finding, events: Sequence[Event], settings: Settings) -> list[str]:
    """The size or recipient count against our gateway's limits, where the events carry them."""
    facts: list[str] = []
    limits = settings.policy
    sizes = [e.size for e in events if e.size]
    if finding.reason in ("mesgtoobig", "exceedlimit") and sizes:
        size = max(sizes)
        limit_bytes = limits.max_message_mb * 1_000_000
        relation = "over" if size > limit_bytes else "under"
        facts.append(f"{_mb(size)}, {relation} the {limits.max_message_mb:g} MB limit of our gateway's policy.")
    counts = [e.nrcpt for e in events if e.nrcpt]
    if finding.reason in ("toomanyconn", "exceedlimit") and counts:
        nrcpt = max(counts)
        relation = "over" if nrcpt > limits.max_recipients else "within"
        facts.append(f"{nrcpt} recipients in one message, {relation} the policy limit of {limits.max_recipients}.")
    if finding.dnsbl_zone:
        side = "Our gateway" if finding.direction == "inbound" else "The receiving side"
        facts.append(f"{side} named the block list {finding.dnsbl_zone} in its rejection.")
    return facts


def _rank(findings: list[Finding], until: datetime) -> None:
    """Score by evidence: the cause's weight, how many, how recent (half-life a week). Best first."""
    for f in findings:
        age_days = max((until - f.last_seen).total_seconds(), 0) / 86400
        recency = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
        weight = max(cause_info(f.cause).weight, EXPIRED_WEIGHT) if f.expired else cause_info(f.cause).weight
        f.score = weight * (1 + math.log(f.count)) * recency
    findings.sort(key=lambda f: (f.score, f.last_seen), reverse=True)


def _history(d: Diagnosis, profile: list[dict[str, Any]]) -> None:
    """Mixed histories (delivered earlier, failing later, or recovered) are told as such."""
    if not d.findings:
        return
    ok = [row for row in profile if row["disposition"] in ("delivered", "accepted")]
    if not ok:
        return
    first_ok = min(row["first"] for row in ok)
    last_ok = max(row["last"] for row in ok)
    decisive = [f for f in d.findings if _final(f)] or d.findings
    first_fail = min(f.first_seen for f in decisive)
    last_fail = max(f.last_seen for f in decisive)
    if last_ok > last_fail:
        d.history = (f"Mail got through again after the failures: the latest delivery was at "
                     f"{last_ok:%Y-%m-%d %H:%M} UTC, after the last failure at {last_fail:%Y-%m-%d %H:%M} UTC.")
    elif first_ok < first_fail:
        d.history = (f"Mixed history: mail was delivered (from {first_ok:%Y-%m-%d %H:%M} UTC), then failed "
                     f"from {first_fail:%Y-%m-%d %H:%M} UTC on.")
    else:
        d.history = "Mixed history: some mail was delivered while other mail failed in the same period."


def _final(finding: Finding) -> bool:
    """A failure for good: refused, bounced, or expired (a deferral may still pass, an expiry does not)."""
    return finding.cause != "transient" or finding.expired


def _verdict(d: Diagnosis, kind: str, value: str, *, session: Session, since: datetime | None,
             until: datetime | None) -> Verdict:
    if not d.findings:
        return Verdict("delivered", "delivered",
                       f"Nothing bounced: {d.summary['delivered']} delivered, {d.summary['accepted']} accepted "
                       f"{_phrase(kind, value)}.")
    decisive = [f for f in d.findings if _final(f)]
    if not decisive and d.history and d.history.startswith("Mail got through again"):
        return Verdict("delivered", "delivered", "Delivered after temporary failures; nothing bounced for good.")
    top = decisive[0] if decisive else d.findings[0]
    if top.expired:
        return expired_verdict(session, top, kind, value, since=since, until=until)
    info = cause_info(top.cause)
    who = "our gateway refused" if top.direction == "inbound" else "the receiving side refused"
    if top.cause == "transient":
        who = "delivery was deferred for"
    count = f"{top.count} time{'s' if top.count != 1 else ''}"
    text = f"{info.title}: {who} mail {_phrase(kind, value)} {count} ({top.reason}) — {info.explanation}."
    if top.facts:
        text += " " + top.facts[0]
    return Verdict(top.cause, top.reason, text)


def _approval(session: Session, d: Diagnosis, now: datetime) -> None:
    if d.target_kind not in ("address", "domain"):
        return
    approval = approvals.is_approved(session, d.target_value, now)  # an address, or a bare domain
    if approval is not None:
        d.approved_sender = True
        d.approval = {
            "pattern": approval.pattern, "kind": approval.kind, "approved_by": approval.approved_by,
            "created_at": approval.created_at.isoformat(),
            "expires_at": approval.expires_at.isoformat() if approval.expires_at else None,
            "reason": approval.reason,
        }


def _nonexistent_recipients(session: Session, d: Diagnosis) -> None:
    """Recipients refused as unknown that never received any mail in the store: likely never existed."""
    unknown = sorted({r for f in d.findings if f.cause == "invalid_recipient" for r in f.recipients})
    if unknown:
        delivered = queries.recipients_ever_delivered(session, unknown)
        d.nonexistent_recipients = [r for r in unknown if r not in delivered]


def _relay_host(relay: str | None) -> str | None:
    match = _RELAY_HOST.match(relay or "")
    return match.group(1) if match and match.group(1) not in ("none", "local") else None


def _contacts(d: Diagnosis, soa: SoaLookup | None) -> None:
    remote = [f for f in d.findings if f.direction == "outbound" and f.cause in REMOTE_CAUSES - {"invalid_recipient"}]
    domains: list[str] = []
    for f in remote:
        for r in f.recipients:
            domain = split_domain(r)
            if domain and domain not in domains:
                domains.append(domain)
    relays = [h for f in remote for e in f.evidence if (h := _relay_host(e.relay))]
    d.contacts = contacts_for(domains[:3], relays, soa)


def _suggestions(session: Session, target: Target, since: datetime, settings: Settings) -> list[str]:
    tips: list[str] = []
    if target.kind == "address":
        domain = split_domain(target.value) or ""
        others = queries.other_senders_in_domain(session, domain, exclude=target.value, since=since)
        if others:
            tips.append(f"Other senders of {domain} in the store: {', '.join(others)}. Was it one of these?")
        if domain:  # the null sender has none
            tips.append(f"Check the spelling, or ask about the whole domain: `why {domain}`.")
    elif target.kind == "domain":
        tips.append("Check the spelling; subdomains are included already.")
    tips.append(f"Widen the window (the store keeps {settings.retention_days} days), or wait if the mail was "
                "sent within the last ~2 hours.")
    return tips
