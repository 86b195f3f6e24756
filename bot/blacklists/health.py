"""Zone health per RFC 5782 section 5: the must-be-listed and must-not-be-listed test points.

A zone that lists 127.0.0.1 (or the domain "invalid") answers everything: a misconfigured mirror, an expired
list whose domain now has a wildcard, or a resolver faking answers. Its listings would turn every check red, so
the checker keeps the verdict and reports that zone's answers as unknown and untrustworthy until it recovers.
"""

from __future__ import annotations

from bot.blacklists.answers import read_codes
from bot.blacklists.lookup import ANSWER, NO_DATA, RawAnswer
from bot.blacklists.results import (
    HEALTH_BROKEN,
    HEALTH_NO_TEST,
    HEALTH_OK,
    HEALTH_UNKNOWN,
    LISTED,
    NOT_LISTED,
    UNKNOWN,
    ZoneHealth,
)
from bot.blacklists.zones import Zone


def probe_result(zone: Zone, raw: RawAnswer) -> tuple[str, str]:
    """(listed | not_listed | unknown, why) for one probe answer."""
    if raw.status == NO_DATA:
        return NOT_LISTED, ""
    if raw.status != ANSWER:
        return UNKNOWN, raw.why
    reading = read_codes(zone, raw.codes)
    return reading.result, reading.why


def _combine(results: list[tuple[str, str]]) -> tuple[str, str]:
    """Several probes of one kind: listed if any is, not_listed if all are, else unknown."""
    if any(r == LISTED for r, _ in results):
        return LISTED, ""
    if all(r == NOT_LISTED for r, _ in results):
        return NOT_LISTED, ""
    return UNKNOWN, "; ".join(dict.fromkeys(w for r, w in results if r == UNKNOWN and w))


def judge(zone: Zone, listed: dict[str, RawAnswer], unlisted: dict[str, RawAnswer], *,
          now: float, ms: float) -> ZoneHealth:
    """The verdict from the probes of the must-be-listed and the must-not-be-listed test points."""
    must, must_why = _combine([probe_result(zone, raw) for raw in listed.values()])
    must_not, must_not_why = _combine([probe_result(zone, raw) for raw in unlisted.values()])
    wrongly = [f"{point} ({', '.join(raw.codes)})" for point, raw in unlisted.items()
               if probe_result(zone, raw)[0] == LISTED]
    if wrongly:
        state = HEALTH_BROKEN
        why = (f"lists {', '.join(wrongly)}, which RFC 5782 says no list may contain: "
               "it answers everything, so its answers are not trusted")
    elif must == LISTED and must_not == NOT_LISTED:
        state, why = HEALTH_OK, ""
    elif must == NOT_LISTED and must_not == NOT_LISTED:
        points = ", ".join(listed)
        state, why = HEALTH_NO_TEST, f"does not list the test entry {points}: empty, stale, or not RFC 5782 compliant"
    else:
        state = HEALTH_UNKNOWN
        why = "; ".join(dict.fromkeys(w for w in (must_why, must_not_why) if w)) or "the probes got no usable answer"
    return ZoneHealth(zone=zone.name, state=state, why=why, checked_at=now, listed_probe=must,
                      unlisted_probe=must_not, ms=ms)
