"""SPF (RFC 7208) of a sender domain for the IP that sent the mail, evaluated by pyspf on our resolver.

pyspf does the evaluation (it passes all 203 cases of the RFC 7208 test suite); it asks DNS through its
module-level `DNSLookup` function, which its own test suite replaces the same way. Ours sends the questions
to the configured resolver (name servers, port, time limit) of the thread that runs the check, and falls
back to pyspf's own lookup elsewhere, so other users of pyspf in the process are not affected.
"""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.resolver
import spf as pyspf

from bot.auth.dnsask import server_errors

MAX_LOOKUPS = pyspf.MAX_LOOKUP  # 10, RFC 7208 section 4.6.4

PASS, FAIL, SOFTFAIL, NEUTRAL, NONE, PERMERROR, TEMPERROR = (
    "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")

_resolver: contextvars.ContextVar[dns.resolver.Resolver | None] = contextvars.ContextVar("spf_resolver",
                                                                                         default=None)
_pyspf_lookup = pyspf.DNSLookup


@dataclass(frozen=True)
class SpfResult:
    """`result` is one of RFC 7208's seven; `mechanism` the one that decided (None: nothing matched)."""

    domain: str
    ip: str | None
    record: str | None
    result: str | None
    mechanism: str | None
    lookups: int
    error: str | None = None

    @property
    def verdict(self) -> str:
        """ok | problem | unknown (temperror, or no IP to evaluate)."""
        if self.result == PASS:
            return "ok"
        if self.result in (None, TEMPERROR):
            return "unknown"
        return "problem"

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "ip": self.ip, "record": self.record, "result": self.result,
                "mechanism": self.mechanism, "lookups": self.lookups, "max_lookups": MAX_LOOKUPS,
                "error": self.error, "verdict": self.verdict}


def _lookup(name: str, qtype: str, strict: Any = True, timeout: float | None = None) -> list[Any]:
    """pyspf's DNSLookup contract: [((name, type), value), ...]; TempError for trouble, [] for nothing."""
    resolver = _resolver.get()
    if resolver is None:
        return _pyspf_lookup(name, qtype, strict, timeout)
    lifetime = min(timeout or resolver.lifetime, resolver.lifetime)
    try:
        answer = resolver.resolve(name, qtype, lifetime=lifetime, search=False)
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return []
    except dns.exception.Timeout as exc:
        raise pyspf.TempError(f"DNS {qtype} {name}: timed out after {lifetime:.2g} s") from exc
    except dns.resolver.NoNameservers as exc:
        raise pyspf.TempError(f"DNS {qtype} {name}: {server_errors(exc)}") from exc
    except (dns.exception.DNSException, OSError) as exc:
        raise pyspf.TempError(f"DNS {qtype} {name}: {type(exc).__name__}") from exc
    values: list[Any] = []
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            values.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            values.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            values.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            values.append(((name, qtype), rdata.strings))
    return values


pyspf.DNSLookup = _lookup


def _record(query: Any, domain: str) -> str | None:
    """The domain's SPF record as pyspf saw it (from its per-query cache: no second question)."""
    for strings in query.cache.get((domain.lower(), "TXT"), []):
        text = b"".join(s if isinstance(s, bytes) else s.encode() for s in strings).decode("utf-8", "replace")
        if text.lower() == "v=spf1" or text.lower().startswith("v=spf1 "):
            return text
    return None


def check_spf(resolver: dns.resolver.Resolver, domain: str, ip: str | None, *, limit: float) -> SpfResult:
    """Evaluate `domain`'s SPF for `ip` (sync; the runner calls it in a thread). Without an IP: the record only."""
    token = _resolver.set(resolver)
    try:
        if ip is None:
            return _record_only(domain)
        started = time.monotonic()
        query = pyspf.query(i=ip, s=f"postmaster@{domain}", h=domain, receiver="bouncebot", strict=True,
                            timeout=limit, querytime=limit)
        result, _code, explanation = query.check()
        error = None
        if result in (PERMERROR, TEMPERROR):
            error = str(getattr(query, "prob", "") or explanation)
        elif result == NONE:
            error = "no SPF record" if not _has_txt_spf(query, domain) else None
        if result == TEMPERROR and time.monotonic() - started >= limit:
            error = f"no answer within {limit:.2g} s ({error})"
        return SpfResult(domain, ip, _record(query, domain), result, query.mechanism, query.lookups, error)
    finally:
        _resolver.reset(token)


def _has_txt_spf(query: Any, domain: str) -> bool:
    return _record(query, domain) is not None


def _record_only(domain: str) -> SpfResult:
    try:
        values = _lookup(domain, "TXT", True, None)
    except pyspf.TempError as exc:
        return SpfResult(domain, None, None, None, None, 0, str(exc))
    texts = [b"".join(v).decode("utf-8", "replace") for _, v in values]
    records = [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]
    if len(records) > 1:
        return SpfResult(domain, None, None, PERMERROR, None, 0, "more than one SPF record")
    error = "no SPF record" if not records else "no sending IP to evaluate the record for"
    return SpfResult(domain, None, records[0] if records else None, None if records else NONE, None, 0, error)
