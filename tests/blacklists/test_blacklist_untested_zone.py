"""A list that does not list its own RFC 5782 test entry: its "not listed" is unknown, never clean.

This is what a resolver that blocks or fakes block-list queries looks like (NXDOMAIN for everything).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.blacklists import BlacklistChecker
from tests.blacklists.rbldnsd import SOA, Rbldnsd, find_rbldnsd, settings_for
from tests.support import unavailable

LISTED = "192.0.2.99"


@pytest.fixture(scope="module")
def untested_zone() -> Iterator[Rbldnsd]:
    if not find_rbldnsd():
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    server = Rbldnsd.start({("zen.spamhaus.org", "ip4set"): SOA + f":127.0.0.3:listed $\n{LISTED}\n"})
    yield server
    server.stop()


def test_not_listed_from_a_zone_failing_its_test_entry_is_unknown(untested_zone: Rbldnsd) -> None:
    checker = BlacklistChecker.from_settings(settings_for(untested_zone.port, dns_timeout=0.5))
    zen = {r.target: r for r in checker.check(["192.0.2.1", LISTED]) if r.zone == "zen.spamhaus.org"}
    clean = zen["192.0.2.1"]
    assert clean.result == "unknown" and not clean.trustworthy
    assert "test entry" in clean.why
    assert zen[LISTED].result == "listed"  # a positive answer is still evidence
