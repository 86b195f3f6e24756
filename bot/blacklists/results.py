"""What a check returns: one ListingResult per target and zone, and one ZoneHealth per zone.

`result` is one of four words and nothing else: a zone that could not be asked, or answered with an error
code, is `unknown` with `why` — never `listed`, never `not_listed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LISTED = "listed"
NOT_LISTED = "not_listed"
UNKNOWN = "unknown"
NOT_APPLICABLE = "not_applicable"
RESULTS = (LISTED, NOT_LISTED, UNKNOWN, NOT_APPLICABLE)

# Zone health (RFC 5782 section 5 test points)
HEALTH_OK = "ok"                # 127.0.0.2 listed, 127.0.0.1 not
HEALTH_BROKEN = "broken"        # lists 127.0.0.1 (or "invalid"): it answers everything
HEALTH_NO_TEST = "no_test_entry"  # answers, does not list 127.0.0.2: usable, but not RFC 5782 compliant
HEALTH_UNKNOWN = "unknown"      # the probes got no usable answer (timeout, refused, error code)
HEALTH_STATES = (HEALTH_OK, HEALTH_BROKEN, HEALTH_NO_TEST, HEALTH_UNKNOWN)


@dataclass(frozen=True)
class ListingResult:
    """The answer of one zone about one target."""

    target: str
    zone: str
    result: str
    codes: tuple[str, ...] = ()
    meaning: str = ""
    txt: str = ""
    why: str = ""
    ms: float = 0.0
    trustworthy: bool = True
    delist_url: str = ""
    name: str = ""         # the form that was listed or checked (a domain's registrable domain, a mapped IPv4)
    cached: bool = False

    @property
    def listed(self) -> bool:
        return self.result == LISTED

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target, "zone": self.zone, "result": self.result, "codes": list(self.codes),
            "meaning": self.meaning, "txt": self.txt, "why": self.why, "ms": round(self.ms, 1),
            "trustworthy": self.trustworthy, "delist_url": self.delist_url, "name": self.name,
            "cached": self.cached,
        }


@dataclass(frozen=True)
class ZoneHealth:
    """RFC 5782 self-test of one zone, kept by the checker; `broken` zones' answers are not trusted."""

    zone: str
    state: str
    why: str = ""
    checked_at: float = 0.0
    listed_probe: str = ""    # what the must-be-listed test point gave: listed | not_listed | unknown
    unlisted_probe: str = ""  # what the must-not-be-listed test point gave
    ms: float = 0.0

    @property
    def broken(self) -> bool:
        return self.state == HEALTH_BROKEN

    def to_json(self) -> dict[str, Any]:
        return {"zone": self.zone, "state": self.state, "why": self.why, "listed_probe": self.listed_probe,
                "unlisted_probe": self.unlisted_probe, "ms": round(self.ms, 1)}
