"""Authentication in the diagnosis: when a finding is about SPF, DKIM, DMARC or reverse DNS, look them up
live and state the concrete fault, with the fix as the first next step.

Which finding: the highest-ranked one whose reason is authfailure or requireptr, or whose reply text names an
authentication failure (policyviolation, rejected... with SPF/DKIM/DMARC wording). What is checked: outbound,
our sender domain from the IP that sent (the one the remote's reply names, else our first outbound IP), its
PTR, and the recipient domain's MX; inbound, the sender's domain from the client IP, and that IP's PTR.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Protocol

from bot.auth import AuthReport, AuthRequest, auth_checker_for
from bot.auth.advice import check_line
from bot.auth.wording import names_authentication as names_reason_or_text
from bot.config import ConfigError, Settings
from bot.diagnosis.model import Diagnosis, Finding
from bot.events import split_domain

_BRACKETED_IP = re.compile(r"\[((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)\]")
_RELAY_IP = re.compile(r"\[([^\]]+)\]")


class AuthCheckerLike(Protocol):
    def check(self, request: AuthRequest) -> AuthReport: ...

    def selectors_for(self, domain: str) -> tuple[str, ...]: ...


def names_authentication(finding: Finding) -> bool:
    """An authentication finding: by its reason, or by what the remote's reply says."""
    return names_reason_or_text(finding.reason, [e.reply_text or "" for e in finding.evidence])


def _address(ip: str) -> bool:
    try:
        return not ipaddress.ip_address(ip).is_unspecified
    except ValueError:
        return False


def _public(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified or address.is_link_local)


def request_for(finding: Finding, d: Diagnosis, settings: Settings, checker: AuthCheckerLike) -> AuthRequest | None:
    """What to check for this finding; None when the sender domain is not known."""
    senders = [split_domain(e.sender) for e in finding.evidence]
    domain = next((s for s in senders if s), None)
    if domain is None and d.target_kind in ("address", "domain"):
        domain = split_domain(d.target_value) if d.target_kind == "address" else d.target_value
    if domain is None:
        return None
    if finding.direction == "inbound":  # the client as our gateway saw it, whatever its range
        ip = next((i for i in finding.client_ips if _address(i)), None)
        return AuthRequest(domain=domain, ip=ip, ip_source="client" if ip else None)
    relay_ips = {m for e in finding.evidence for m in _RELAY_IP.findall(e.relay or "")}
    named = [ip for e in finding.evidence for ip in _BRACKETED_IP.findall(e.reply_text or "")
             if ip not in relay_ips and _public(ip)]
    ip = named[0] if named else (settings.outbound_ips[0] if settings.outbound_ips else None)
    source = "reply" if named else ("outbound" if ip else None)
    recipient_domain = next((r for r in (split_domain(x) for x in finding.recipients) if r), None)
    return AuthRequest(domain=domain, ip=ip, selectors=checker.selectors_for(domain), mx_domain=recipient_domain,
                       ip_source=source)


def run_auth_checks(d: Diagnosis, settings: Settings, *, live: bool, checker: AuthCheckerLike | None = None) -> None:
    """Check the first authentication finding live; its facts and next steps say the fault and the fix."""
    finding = next((f for f in d.findings if names_authentication(f)), None)
    if not live or finding is None:
        return
    try:
        checker = checker or auth_checker_for(settings)
    except ConfigError as exc:  # e.g. no resolver configured: say so, and diagnose the rest
        finding.facts.append(f"The authentication checks could not run: {exc}.")
        return
    request = request_for(finding, d, settings, checker)
    if request is None:
        return
    report = checker.check(request)
    d.authentication = report.to_json()
    lines = [check_line(name, result) for name, result in report.results()]
    faults = [text for _, verdict, text, _ in lines if verdict == "problem"]
    fixes = [fix for _, verdict, _, fix in lines if verdict == "problem" and fix]
    unknown = [text for _, verdict, text, _ in lines if verdict == "unknown"]
    facts = faults + ([f"Could not be checked now (neither a pass nor a failure): {' '.join(unknown)}"]
                      if unknown else [])
    if finding.direction == "outbound" and not request.selectors and report.dmarc and report.dmarc.status == "found":
        facts.append(f"DKIM was not checked: no selector is known for {request.domain} (set "
                     "BOUNCEBOT_DKIM_SELECTORS, or run `bouncebot dns` with the bounce's returned headers).")
    if not faults and not unknown:
        facts.append("Live check: " + " ".join(text for _, _, text, _ in lines)
                     + " Nothing wrong is published now: the refused message may have been unsigned, sent "
                       "through another relay, or the records were fixed since.")
    finding.facts[:0] = facts
    finding.next_steps[:0] = fixes
    if faults and d.verdict.reason == finding.reason and faults[0] not in d.verdict.text:
        d.verdict.text += " " + faults[0]

