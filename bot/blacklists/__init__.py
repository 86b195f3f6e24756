"""Live DNS block-list checks (the runbook's "look the mail server's IP up on blacklists").

    checker = BlacklistChecker.from_settings(settings)
    results = checker.check(["192.0.2.1", "example.com"])      # list[ListingResult], sync
    results = await checker.check_async(["192.0.2.1"])          # the same, from async code
    verdicts = checker.health()                                 # RFC 5782 self-test of every zone

Module map: zones (the table as data), names (targets -> query names), psl (registrable domains), lookup (one
DNS question), answers (codes -> listed/unknown), health (test points), cache, checker (the orchestration).
"""

from bot.blacklists.checker import BlacklistChecker
from bot.blacklists.names import InvalidTarget, parse_check_target
from bot.blacklists.results import (
    HEALTH_BROKEN,
    HEALTH_NO_TEST,
    HEALTH_OK,
    HEALTH_UNKNOWN,
    LISTED,
    NOT_APPLICABLE,
    NOT_LISTED,
    RESULTS,
    UNKNOWN,
    ListingResult,
    ZoneHealth,
)
from bot.blacklists.zones import Zone, ZoneConfigError, find_zone, load_zones

__all__ = [
    "HEALTH_BROKEN", "HEALTH_NO_TEST", "HEALTH_OK", "HEALTH_UNKNOWN", "LISTED", "NOT_APPLICABLE", "NOT_LISTED",
    "RESULTS", "UNKNOWN", "BlacklistChecker", "InvalidTarget", "ListingResult", "Zone", "ZoneConfigError",
    "ZoneHealth", "find_zone", "load_zones", "parse_check_target",
]
