"""When every zone fails the same way, the resolver is the likely problem: say so once, naming it.

Twelve rows of "timed out" read as twelve broken lists; they almost always mean one broken (or blocked)
resolver. `resolver_problem` turns such a set of answers into one sentence naming the resolver and the settings
that choose it; the rows keep their own reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.blacklists.results import UNKNOWN

#: Unknown for reasons of the zone itself, not of the resolver: these do not count towards "every zone failed".
_ZONE_OWN = ("needs a key", "this list is broken", "cannot trust 'not listed'", "error code", "outside 127.0.0.0/8")
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")
_NOT_ASKED = re.compile(r"; not asked again for .*$")


def failure_kind(why: str) -> str:
    """The failure without its numbers: "timed out: no answer within 2 s" and "... 0.3 s" are one kind."""
    return _NUMBERS.sub("N", _NOT_ASKED.sub("", why or "")).strip()


def _get(result: Any, name: str) -> Any:
    return result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)


def common_failure(results: Iterable[Any]) -> str | None:
    """The one reason every zone asked failed for (one of their `why` texts), if all of at least two zones failed
    the same way; None when any zone answered, or the failures differ."""
    asked = [r for r in results if _get(r, "result") != "not_applicable"
             and not any(own in (_get(r, "why") or "") for own in _ZONE_OWN)]
    zones = {_get(r, "zone") for r in asked}
    if len(zones) < 2 or any(_get(r, "result") != UNKNOWN for r in asked):
        return None
    kinds = {failure_kind(_get(r, "why") or "") for r in asked}
    if len(kinds) != 1:
        return None
    return _NOT_ASKED.sub("", _get(asked[0], "why") or "no answer")


def describe_resolver(nameservers: Sequence[str], port: int, configured: bool) -> str:
    servers = ", ".join(str(s) for s in nameservers) or "none"
    where = "BOUNCEBOT_DNS_NAMESERVERS" if configured else "the system's, from /etc/resolv.conf"
    suffix = f" port {port}" if port != 53 else ""
    return f"{servers}{suffix} ({where})"


def resolver_problem(results: Iterable[Any], resolver: str) -> str | None:
    """One sentence when every zone failed the same way, else None."""
    rows = list(results)
    failure = common_failure(rows)
    if failure is None:
        return None
    zones = len({_get(r, "zone") for r in rows if _get(r, "result") == UNKNOWN})
    return (f"Every one of the {zones} lists failed the same way ({failure}): the resolver {resolver} is the likely "
            "problem, not the lists. Check that it answers (dig @server 2.0.0.127.zen.spamhaus.org), that a "
            "firewall lets DNS out, and that it is not a public resolver the lists refuse; set "
            "BOUNCEBOT_DNS_NAMESERVERS (and BOUNCEBOT_DNS_PORT) to one that works.")
