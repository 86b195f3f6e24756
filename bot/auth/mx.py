"""MX of a recipient domain: none (then RFC 5321's implicit MX, the A record), a null MX (RFC 7505: the
domain takes no mail), or hosts that do not resolve."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver

from bot.auth.dnsask import FAILED, FOUND, NXDOMAIN, ask

MAX_HOSTS = 10


@dataclass(frozen=True)
class MxResult:
    """`status`: ok | implicit (no MX, an A record) | null_mx | none | nxdomain | unresolvable | unknown."""

    domain: str
    status: str
    hosts: tuple[str, ...] = ()
    unresolvable: tuple[str, ...] = ()
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.status == "unknown":
            return "unknown"
        return "ok" if self.status in ("ok", "implicit") else "problem"

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "hosts": list(self.hosts), "unresolvable": list(self.unresolvable),
                "status": self.status, "error": self.error, "verdict": self.verdict}


async def _resolves(resolver: dns.asyncresolver.Resolver, host: str, lifetime: float) -> bool | None:
    a, aaaa = await asyncio.gather(ask(resolver, host, "A", lifetime), ask(resolver, host, "AAAA", lifetime))
    if FOUND in (a.status, aaaa.status):
        return True
    return None if FAILED in (a.status, aaaa.status) else False


async def check_mx(resolver: dns.asyncresolver.Resolver, domain: str, *, lifetime: float) -> MxResult:
    deadline = time.monotonic() + lifetime
    answer = await ask(resolver, domain, "MX", lifetime)
    if answer.status == FAILED:
        return MxResult(domain, "unknown", error=answer.error)
    if answer.status == NXDOMAIN:
        return MxResult(domain, "nxdomain", error=f"{domain} does not exist")
    if answer.status != FOUND:
        implicit = await _resolves(resolver, domain, deadline - time.monotonic())
        if implicit is None:
            return MxResult(domain, "unknown", error=f"no MX; the A/AAAA lookup of {domain} failed")
        if implicit:
            return MxResult(domain, "implicit", (domain,), error=f"no MX record: mail goes to {domain}'s A record")
        return MxResult(domain, "none", error=f"{domain} has no MX and no address record: it cannot take mail")
    records = sorted((int(p), h.lower()) for p, h in (v.split(" ", 1) for v in answer.values))
    hosts = tuple(h for _, h in records)[:MAX_HOSTS]
    if hosts == (".",) or (records and records[0] == (0, ".") and len(records) == 1):
        return MxResult(domain, "null_mx", (), error=f"{domain} publishes a null MX (RFC 7505): it takes no mail")
    left = deadline - time.monotonic()
    resolved = await asyncio.gather(*(_resolves(resolver, h, left) for h in hosts))
    bad = tuple(h for h, ok in zip(hosts, resolved, strict=True) if ok is False)
    if any(ok is True for ok in resolved):
        return MxResult(domain, "ok", hosts, bad, f"does not resolve: {', '.join(bad)}" if bad else None)
    if any(ok is None for ok in resolved):
        return MxResult(domain, "unknown", hosts, bad, "the MX hosts' address lookups failed")
    return MxResult(domain, "unresolvable", hosts, bad, f"no MX host resolves: {', '.join(bad)}")
