"""One DNS question for the authentication checks, reduced to an Answer that never raises.

Messages are written here (not dnspython's): they name what failed without repeating the whole query.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

FOUND = "found"        # NOERROR with records of the type asked
NO_DATA = "no_data"    # NOERROR without them
NXDOMAIN = "nxdomain"  # the name does not exist
FAILED = "failed"      # timeout, SERVFAIL, REFUSED, network: nothing is known


@dataclass(frozen=True)
class Answer:
    status: str
    values: tuple[str, ...] = ()
    error: str = ""

    @property
    def known_empty(self) -> bool:
        """The server said there is nothing (as opposed to: could not ask)."""
        return self.status in (NO_DATA, NXDOMAIN)


def rdata_text(rdata: object) -> str:
    """TXT as its joined strings; MX as 'preference host'; names without the final dot; A/AAAA as given."""
    strings = getattr(rdata, "strings", None)
    if strings is not None:
        return b"".join(strings).decode("utf-8", "replace")
    exchange = getattr(rdata, "exchange", None)
    if exchange is not None:
        return f"{rdata.preference} {exchange.to_text(omit_final_dot=True) or '.'}"  # type: ignore[attr-defined]
    target = getattr(rdata, "target", None)
    if target is not None:
        return target.to_text(omit_final_dot=True)
    return rdata.to_text()  # type: ignore[attr-defined]


async def ask(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, lifetime: float) -> Answer:
    """Records of `rdtype` at `name`, within `lifetime` seconds."""
    if lifetime <= 0:
        return Answer(FAILED, error="no time left for the lookup")
    try:
        answer = await resolver.resolve(name, rdtype, lifetime=lifetime, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Answer(NXDOMAIN)
    except dns.exception.Timeout:
        return Answer(FAILED, error=f"{rdtype} {name}: timed out after {lifetime:.2g} s")
    except dns.resolver.NoNameservers as exc:
        return Answer(FAILED, error=f"{rdtype} {name}: {server_errors(exc)}")
    except dns.exception.DNSException as exc:
        return Answer(FAILED, error=f"{rdtype} {name}: DNS error {type(exc).__name__}")
    except OSError as exc:
        return Answer(FAILED, error=f"{rdtype} {name}: network error {exc.strerror or type(exc).__name__}")
    if answer.rrset is None:
        return Answer(NO_DATA)
    return Answer(FOUND, tuple(rdata_text(r) for r in answer.rrset))


def server_errors(exc: dns.resolver.NoNameservers) -> str:
    """'the server answered SERVFAIL' from dnspython's list of (server, tcp, port, error, answer)."""
    rcodes = []
    for error in exc.kwargs.get("errors", []):
        problem = error[3]
        rcodes.append(problem if isinstance(problem, str) else type(problem).__name__)
    seen = sorted(set(rcodes))
    return "the server answered " + ", ".join(seen) if seen else "no name server could answer"
