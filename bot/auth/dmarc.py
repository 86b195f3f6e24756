"""DMARC (RFC 7489): find the policy record of a From domain (its own, else its organisational domain's),
read its tags, and say whether SPF aligns.

Written by hand: the record is a short tag list, and the one library that reads it (checkdmarc) brings a
dozen dependencies (HTTP clients, cryptography, a parser generator) for it; see docs/authentication.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver

from bot.auth.dnsask import FAILED, FOUND, ask
from bot.blacklists.psl import registrable_domain

POLICIES = ("none", "quarantine", "reject")
ALIGNMENT = {"r": "relaxed", "s": "strict"}


@dataclass(frozen=True)
class DmarcResult:
    """`status`: found | none (no record) | invalid (a record with a syntax error) | unknown (DNS trouble)."""

    domain: str
    status: str
    record_domain: str | None = None
    record: str | None = None
    policy: str | None = None
    subdomain_policy: str | None = None
    adkim: str = "r"
    aspf: str = "r"
    pct: int = 100
    rua: tuple[str, ...] = ()
    aligned_spf: bool | None = None
    error: str | None = None
    spf_ip: str | None = None  # the IP the SPF alignment was judged for
    applied_policy: str | None = None
    warnings: tuple[str, ...] = field(default=())
    aligned_with: str | None = None  # header_from (the message's From is known) | envelope (it stands for From)
    spf_domain: str | None = None  # the MAIL FROM domain SPF was evaluated for
    spf_pass: bool | None = None
    aligned_dkim: bool | None = None  # a signature the message carried, aligned on d=, has a published key
    dkim_domains: tuple[str, ...] = ()  # the d= of the signatures the message carried

    @property
    def verdict(self) -> str:
        if self.status == "unknown":
            return "unknown"
        if self.status != "found" or self.aligned_spf is False:
            return "problem"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "record_domain": self.record_domain, "record": self.record,
                "policy": self.policy, "subdomain_policy": self.subdomain_policy, "applied_policy":
                self.applied_policy, "adkim": self.adkim, "aspf": self.aspf, "pct": self.pct, "rua": list(self.rua),
                "aligned_spf": self.aligned_spf, "spf_ip": self.spf_ip, "error": self.error, "status": self.status,
                "warnings": list(self.warnings), "aligned_with": self.aligned_with, "spf_domain": self.spf_domain,
                "aligned_dkim": self.aligned_dkim, "dkim_domains": list(self.dkim_domains), "verdict": self.verdict}


def org_domain(domain: str) -> str:
    """The organisational domain (public suffix + one label), or the domain itself when the list has none."""
    return registrable_domain(domain) or domain


def aligned(authenticated: str, from_domain: str, mode: str) -> bool:
    """Identifier alignment: exact in strict mode, same organisational domain in relaxed mode."""
    a, b = authenticated.lower().rstrip("."), from_domain.lower().rstrip(".")
    return a == b if mode == "s" else org_domain(a) == org_domain(b)


def parse_record(text: str) -> tuple[dict[str, str], str | None]:
    """(tags, syntax error or None). v=DMARC1 must come first; p= is required (RFC 7489 section 6.3)."""
    tags: dict[str, str] = {}
    parts = [p.strip() for p in text.split(";")]
    for n, part in enumerate(parts):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not name:
            return tags, f"`{part}` is not a tag=value pair"
        if n == 0 and (name != "v" or value != "DMARC1"):
            return tags, "the record must start with `v=DMARC1`"
        if name in tags:
            return tags, f"the tag `{name}` appears twice"
        tags[name] = value
    if "p" not in tags:
        return tags, "the required tag `p=` is missing"
    for name in ("p", "sp"):
        if name in tags and tags[name].lower() not in POLICIES:
            return tags, f"`{name}={tags[name]}` is not none, quarantine or reject"
    for name in ("adkim", "aspf"):
        if name in tags and tags[name].lower() not in ALIGNMENT:
            return tags, f"`{name}={tags[name]}` is not r or s"
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        return tags, f"`pct={tags['pct']}` is not a whole number from 0 to 100"
    for uri in _uris(tags.get("rua", "")):
        if not uri.lower().startswith(("mailto:", "https:")):
            return tags, f"the report address `{uri}` is not a mailto: or https: URI"
    return tags, None


def _uris(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


async def _records(resolver: dns.asyncresolver.Resolver, domain: str, lifetime: float) -> tuple[list[str], str | None]:
    answer = await ask(resolver, f"_dmarc.{domain}", "TXT", lifetime)
    if answer.status == FAILED:
        return [], answer.error
    texts = list(answer.values) if answer.status == FOUND else []
    return [t for t in texts if t.replace(" ", "").lower().startswith("v=dmarc1")], None


async def check_dmarc(resolver: dns.asyncresolver.Resolver, domain: str, *, lifetime: float) -> DmarcResult:
    """The policy for mail whose From domain is `domain` (SPF alignment is added by the runner: `aligned`)."""
    record_domain = domain
    records, error = await _records(resolver, domain, lifetime)
    org = org_domain(domain)
    if error is None and not records and org != domain:
        record_domain = org
        records, error = await _records(resolver, org, lifetime)
    if error is not None:
        return DmarcResult(domain, "unknown", error=error)
    if not records:
        return DmarcResult(domain, "none", error=f"no DMARC record at _dmarc.{domain}"
                           + (f" nor _dmarc.{org}" if org != domain else ""))
    if len(records) > 1:
        return DmarcResult(domain, "invalid", record_domain, " | ".join(records),
                           error=f"_dmarc.{record_domain} has {len(records)} DMARC records: receivers ignore them all")
    record = records[0]
    tags, syntax = parse_record(record)
    if syntax:
        return DmarcResult(domain, "invalid", record_domain, record, error=f"syntax error: {syntax}")
    policy = tags["p"].lower()
    sub = tags.get("sp", "").lower() or None
    aspf = tags.get("aspf", "r").lower()
    applied = (sub or policy) if record_domain != domain else policy
    warnings = []
    pct = int(tags.get("pct", "100"))
    if pct < 100:
        warnings.append(f"pct={pct}: the policy applies to {pct}% of failing mail")
    if "rua" not in tags:
        warnings.append("no rua=: nobody receives aggregate reports")
    return DmarcResult(domain, "found", record_domain, record, policy=policy, subdomain_policy=sub,
                       adkim=tags.get("adkim", "r").lower(), aspf=aspf, pct=pct, rua=tuple(_uris(tags.get("rua", ""))),
                       applied_policy=applied, warnings=tuple(warnings))
