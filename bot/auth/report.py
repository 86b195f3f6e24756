"""What the authentication checks are asked (AuthRequest) and what they found (AuthReport)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.auth.advice import check_line
from bot.auth.dkim import DkimResult
from bot.auth.dmarc import DmarcResult
from bot.auth.mx import MxResult
from bot.auth.ptr import PtrResult
from bot.auth.spf import SpfResult


@dataclass(frozen=True)
class AuthRequest:
    """domain: the sender domain DMARC and DKIM selectors are for; ip: the IP that sent the mail; mx_domain:
    a recipient domain.

    header_from: `domain` is the message's header From (a pasted bounce's returned original); otherwise the
    envelope domain stands for it (the logs carry no From). envelope_domain: the MAIL FROM domain SPF is
    evaluated for, when it is known and not `domain`. signatures: (d=, s=) of the message's DKIM-Signature
    headers, each checked for its key. ip_source: where the IP came from (said in the report).

    A check runs when what it needs is there: SPF and DMARC need the domain, DKIM a domain and selectors (or
    signatures), PTR the IP, MX the recipient domain.
    """

    domain: str | None = None
    ip: str | None = None
    selectors: tuple[str, ...] = ()
    mx_domain: str | None = None
    header_from: bool = False
    envelope_domain: str | None = None
    signatures: tuple[tuple[str, str], ...] = ()
    ip_source: str | None = None

    @property
    def spf_domain(self) -> str | None:
        return self.envelope_domain or self.domain

    def dkim_pairs(self) -> list[tuple[str, str]]:
        """(domain, selector) to look up: the configured selectors of `domain`, then the signatures'."""
        pairs = [(self.domain, s) for s in self.selectors if self.domain] + list(self.signatures)
        return list(dict.fromkeys(pairs))


@dataclass
class AuthReport:
    domain: str | None
    ip: str | None
    spf: SpfResult | None = None
    dmarc: DmarcResult | None = None
    dkim: list[DkimResult] = field(default_factory=list)
    ptr: PtrResult | None = None
    mx: MxResult | None = None
    ms: float = 0.0
    ip_source: str | None = None
    header_from: bool = False

    def results(self) -> list[tuple[str, Any]]:
        """(check name, result) of every check that ran, in the order they are shown."""
        pairs: list[tuple[str, Any]] = [("mx", self.mx), ("spf", self.spf), ("dmarc", self.dmarc)]
        pairs += [("dkim", d) for d in self.dkim]
        pairs.append(("ptr", self.ptr))
        return [(name, r) for name, r in pairs if r is not None]

    @property
    def problems(self) -> list[tuple[str, Any]]:
        return [(n, r) for n, r in self.results() if r.verdict == "problem"]

    @property
    def unknown(self) -> list[tuple[str, Any]]:
        return [(n, r) for n, r in self.results() if r.verdict == "unknown"]

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain, "ip": self.ip, "ip_source": self.ip_source,
            "domain_source": "header_from" if self.header_from else "envelope",
            "spf": self.spf.to_json() if self.spf else None,
            "dmarc": self.dmarc.to_json() if self.dmarc else None,
            "dkim": [d.to_json() for d in self.dkim],
            "ptr": self.ptr.to_json() if self.ptr else None,
            "mx": self.mx.to_json() if self.mx else None,
            "lines": [dict(zip(("check", "verdict", "text", "fix"), check_line(n, r), strict=True))
                      for n, r in self.results()],
        }
