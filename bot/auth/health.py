"""The one-stop DNS health check of a domain (`bouncebot dns`, `/bounce dns`): MX, SPF for each sending IP,
DMARC, DKIM selectors, PTR/FCrDNS, and the block lists, as one line each with what to fix."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.auth.advice import check_line
from bot.auth.dkim import valid_selector
from bot.auth.report import AuthReport, AuthRequest
from bot.auth.runner import AuthChecker

MAX_IPS = 8


class ListingChecker(Protocol):
    def check(self, targets: Sequence[str]) -> Sequence[Any]: ...


@dataclass
class DnsHealth:
    domain: str | None
    ips: list[str]
    reports: list[AuthReport]
    blacklists: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> list[dict[str, str]]:
        """Each result once (MX, DMARC and DKIM are the same for every IP), then the block lists."""
        seen: set[str] = set()
        rows: list[dict[str, str]] = []
        for report in self.reports:
            for name, result in report.results():
                check, verdict, text, fix = check_line(name, result)
                if text not in seen:
                    seen.add(text)
                    rows.append({"check": check, "verdict": verdict, "text": text, "fix": fix})
        rows += _blacklist_lines(self.blacklists)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "ips": self.ips, "authentication": [r.to_json() for r in self.reports],
                "blacklists": self.blacklists, "lines": self.lines()}


def _blacklist_lines(results: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for target in dict.fromkeys(r["target"] for r in results):
        mine = [r for r in results if r["target"] == target and r["result"] != "not_applicable"]
        listed = [r for r in mine if r["result"] == "listed" and r.get("trustworthy", True)]
        unknown = [r for r in mine if r["result"] == "unknown"]
        if listed:
            zones = ", ".join(f"{r['zone']} ({' '.join(r.get('codes') or [])})" for r in listed)
            urls = "; ".join(r["delist_url"] for r in listed if r.get("delist_url"))
            rows.append({"check": "dnsbl", "verdict": "problem", "text": f"{target} is listed on {zones}.",
                         "fix": "Find and stop the cause (a compromised account, a bulk sender), then request "
                                "delisting" + (f": {urls}." if urls else ".")})
        if unknown:
            zones = ", ".join(r["zone"] for r in unknown)
            rows.append({"check": "dnsbl", "verdict": "unknown", "fix": "",
                         "text": f"{target} could not be checked on {zones} (unknown, neither listed nor clean)."})
        if not listed and not unknown and mine:
            rows.append({"check": "dnsbl", "verdict": "ok", "fix": "",
                         "text": f"{target} is not listed on any of {len(mine)} block lists."})
    return rows


def parse_dns_target(text: str) -> tuple[str | None, str | None]:
    """(domain, ip) from a domain, an address (its domain) or an IP; ValueError with usage otherwise."""
    value = text.strip().strip("<>").lower().rstrip(".")
    try:
        return None, str(ipaddress.ip_address(value))
    except ValueError:
        pass
    domain = value.rsplit("@", 1)[-1]
    try:
        domain = domain.encode("idna").decode("ascii")  # an internationalized name as DNS asks for it
    except UnicodeError:
        domain = ""
    labels = domain.split(".")
    if len(labels) < 2 or not all(0 < len(x) < 64 and x.replace("-", "").replace("_", "").isalnum()
                                  for x in labels) or len(domain) > 253:
        raise ValueError(f"`{text}` is not a domain, an address or an IP: try `dns example.com` or "
                         "`dns example.com 192.0.2.1`")
    return domain, None


def check_health(checker: AuthChecker, target: str, *, ips: Sequence[str] = (), selectors: Sequence[str] = (),
                 blacklists: ListingChecker | None = None, outbound_ips: Sequence[str] = ()) -> DnsHealth:
    """The health of `target`, with SPF and PTR for `ips` (else our outbound IPs). Raises ValueError for bad input."""
    domain, target_ip = parse_dns_target(target)
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError as exc:
            raise ValueError(f"`{ip}` is not an IP address") from exc
    bad = [s for s in selectors if not valid_selector(s)]
    if bad:
        raise ValueError(f"`{bad[0]}` is not a DKIM selector (letters, digits, dots, hyphens)")
    chosen = list(dict.fromkeys([*([target_ip] if target_ip else []), *ips] or list(outbound_ips)))[:MAX_IPS]
    wanted = tuple(dict.fromkeys([*selectors, *(checker.selectors_for(domain) if domain else ())]))
    reports = []
    for n, ip in enumerate(chosen or [None]):
        first = n == 0
        reports.append(checker.check(AuthRequest(domain=domain, ip=ip, selectors=wanted if first else (),
                                                 mx_domain=domain if first else None)))
    listed: list[dict[str, Any]] = []
    if blacklists is not None:
        listed = [r.to_json() for r in blacklists.check([*chosen, *([domain] if domain else [])])]
    return DnsHealth(domain, chosen, reports, listed)
