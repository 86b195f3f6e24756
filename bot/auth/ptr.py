"""PTR and forward confirmation (FCrDNS) of an IP: its reverse names, and whether one of them resolves back."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver

from bot.auth.dnsask import FAILED, FOUND, ask

MAX_NAMES = 5


@dataclass(frozen=True)
class PtrResult:
    """`forward_confirmed`: True, False, or None when it could not be known."""

    ip: str
    names: tuple[str, ...]
    forward_confirmed: bool | None
    error: str | None = None

    @property
    def verdict(self) -> str:
        return "unknown" if self.forward_confirmed is None else ("ok" if self.forward_confirmed else "problem")

    def to_json(self) -> dict[str, Any]:
        return {"ip": self.ip, "names": list(self.names), "forward_confirmed": self.forward_confirmed,
                "error": self.error, "verdict": self.verdict}


async def check_ptr(resolver: dns.asyncresolver.Resolver, ip: str, *, lifetime: float) -> PtrResult:
    address = ipaddress.ip_address(ip)
    deadline = time.monotonic() + lifetime
    answer = await ask(resolver, address.reverse_pointer, "PTR", lifetime)
    if answer.status == FAILED:
        return PtrResult(ip, (), None, answer.error)
    if answer.status != FOUND:
        return PtrResult(ip, (), False, f"no PTR record for {ip}")
    names = tuple(dict.fromkeys(n.lower() for n in answer.values))[:MAX_NAMES]
    rdtype = "A" if address.version == 4 else "AAAA"
    left = deadline - time.monotonic()
    forwards = await asyncio.gather(*(ask(resolver, name, rdtype, left) for name in names))
    if any(ipaddress.ip_address(a) == address for f in forwards if f.status == FOUND for a in f.values):
        return PtrResult(ip, names, True)
    failed = [f.error for f in forwards if f.status == FAILED]
    if failed:
        return PtrResult(ip, names, None, "; ".join(failed))
    return PtrResult(ip, names, False, f"{', '.join(names)} does not resolve back to {ip}")
