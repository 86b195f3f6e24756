"""Reading a zone's A records: listing codes and their meanings, or an error that means "unknown".

A list answers with 127.0.0.x codes. Other answers are not listings: 127.255.255.252/254/255 and a zone's own
"query refused" code (127.0.0.1 on URIBL and SURBL, 127.0.1.255 on the DBL), and anything outside 127.0.0.0/8
(a resolver that rewrites NXDOMAIN to an advertising page). Reading those as listings is how checkers report
every IP as blacklisted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from bot.blacklists.results import LISTED, NOT_LISTED, UNKNOWN
from bot.blacklists.zones import Zone

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


@dataclass(frozen=True)
class Reading:
    result: str
    meaning: str = ""
    why: str = ""


def read_codes(zone: Zone, codes: tuple[str, ...]) -> Reading:
    """What the A records `codes` from `zone` mean."""
    if not codes:
        return Reading(NOT_LISTED)
    outside = [c for c in codes if not _in_loopback(c)]
    if outside:
        return Reading(UNKNOWN, why=f"answer outside 127.0.0.0/8 ({', '.join(outside)}): not a block-list answer "
                                    "(a resolver rewriting NXDOMAIN?)")
    errors = zone.all_error_codes()
    failed = [f"{c}: {errors[c]}" for c in codes if c in errors]
    if failed:
        return Reading(UNKNOWN, why="error code " + "; ".join(failed))
    if zone.bitmask:
        return Reading(LISTED, meaning="; ".join(_bit_meanings(zone, c) for c in codes))
    return Reading(LISTED, meaning="; ".join(zone.codes.get(c, f"listed (code {c} is not documented)")
                                             for c in codes))


def _in_loopback(code: str) -> bool:
    try:
        return ipaddress.IPv4Address(code) in LOOPBACK
    except ValueError:
        return False


def _bit_meanings(zone: Zone, code: str) -> str:
    value = int(code.rsplit(".", 1)[1])
    if not code.startswith("127.0.0."):
        return f"listed (code {code} is not documented)"
    meanings = [zone.bitmask[bit] for bit in sorted(zone.bitmask) if value & bit]
    rest = value & ~sum(zone.bitmask)
    if rest:
        meanings.append(f"undocumented bits {rest}")
    return "; ".join(meanings)
