"""One DNS question to one zone, with a deadline, reduced to a RawAnswer.

Why strings are written here, never copied from dnspython: its messages contain the query name, and a
Spamhaus DQS query name contains the key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.rdatatype
import dns.resolver

ANSWER = "answer"      # NOERROR with A records
NO_DATA = "no_data"    # NOERROR without A records, or NXDOMAIN
FAILED = "failed"      # timeout, SERVFAIL, REFUSED, malformed: nothing is known

#: How long a "not listed" is kept when the server sends no SOA to take the negative TTL from.
DEFAULT_NEGATIVE_TTL = 60.0


@dataclass(frozen=True)
class RawAnswer:
    status: str
    codes: tuple[str, ...] = ()
    ttl: float = 0.0
    why: str = ""
    timed_out: bool = False


async def ask_a(resolver: dns.asyncresolver.Resolver, qname: str, lifetime: float) -> RawAnswer:
    """A records of `qname`; never raises for DNS trouble (it becomes a FAILED answer with why)."""
    if lifetime <= 0:
        return RawAnswer(FAILED, why=_timeout_why(0), timed_out=True)
    try:
        answer = await resolver.resolve(qname, "A", lifetime=lifetime, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN as exc:
        return RawAnswer(NO_DATA, ttl=_negative_ttl(exc))
    except dns.resolver.LifetimeTimeout:
        return RawAnswer(FAILED, why=_timeout_why(lifetime), timed_out=True)
    except dns.resolver.NoNameservers as exc:
        return RawAnswer(FAILED, why=_server_errors(exc))
    except dns.exception.DNSException as exc:
        return RawAnswer(FAILED, why=f"DNS error: {type(exc).__name__}")
    except OSError as exc:
        return RawAnswer(FAILED, why=f"network error: {exc.strerror or type(exc).__name__}")
    if answer.rrset is None:
        return RawAnswer(NO_DATA, ttl=_soa_ttl(answer.response))
    codes = tuple(sorted({rdata.address for rdata in answer.rrset}, key=_sort_key))
    return RawAnswer(ANSWER, codes=codes, ttl=float(answer.rrset.ttl))


async def ask_txt(resolver: dns.asyncresolver.Resolver, qname: str, lifetime: float) -> tuple[str, str]:
    """(text, why-not): the TXT explanation a list publishes next to a listing."""
    if lifetime <= 0:
        return "", "no time left to fetch the TXT record"
    try:
        answer = await resolver.resolve(qname, "TXT", lifetime=lifetime, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return "", "no TXT record"
    except dns.resolver.LifetimeTimeout:
        return "", "TXT lookup timed out"
    except dns.resolver.NoNameservers as exc:
        return "", "TXT lookup failed: " + _server_errors(exc)
    except (dns.exception.DNSException, OSError) as exc:
        return "", f"TXT lookup failed: {type(exc).__name__}"
    if answer.rrset is None:
        return "", "no TXT record"
    texts = [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer.rrset]
    return " | ".join(sorted(texts)), ""


def _sort_key(code: str) -> tuple[int, ...]:
    try:
        return (int(ipaddress.IPv4Address(code)),)
    except ValueError:
        return (1 << 33,)


def _timeout_why(lifetime: float) -> str:
    return f"timed out: no answer within {lifetime:.2g} s"


def _server_errors(exc: dns.resolver.NoNameservers) -> str:
    rcodes = []
    for error in exc.kwargs.get("errors", []):
        problem = error[3]
        rcodes.append(problem if isinstance(problem, str) else type(problem).__name__)
    seen = sorted(set(rcodes))
    if not seen:
        return "no name server could answer"
    return "the server answered " + ", ".join(seen)


def _soa_ttl(response: dns.message.Message | None) -> float:
    if response is None:
        return DEFAULT_NEGATIVE_TTL
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return float(min(rrset.ttl, rrset[0].minimum))
    return DEFAULT_NEGATIVE_TTL


def _negative_ttl(exc: dns.resolver.NXDOMAIN) -> float:
    responses = exc.responses()
    return min((_soa_ttl(r) for r in responses.values()), default=DEFAULT_NEGATIVE_TTL)
