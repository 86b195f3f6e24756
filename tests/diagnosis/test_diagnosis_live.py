"""The diagnosis with its live checks against a real rbldnsd: listings, cross-checks, unknowns, SOA contacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blacklists import BlacklistChecker
from bot.diagnosis import diagnose
from bot.diagnosis.contacts import soa_lookup_from_settings
from bot.events import TrackingEvent
from bot.store import Store
from bot.targets import parse_target
from storage import queries
from tests.blacklists.rbldnsd import FAULTY, HEALTHY, LISTED_IP, SOA, Rbldnsd, find_rbldnsd, settings_for
from tests.support import unavailable

NOW = datetime.now(UTC)
RECEIVER = "fjord-shipping.example"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[Rbldnsd]:
    """Healthy block lists, plus an SOA for the receiving domain (its RNAME is the contact)."""
    if not find_rbldnsd():
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    datasets = {**HEALTHY, (RECEIVER, "ip4set"): SOA}
    server = Rbldnsd.start(datasets)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[Rbldnsd]:
    if not find_rbldnsd():
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    server = Rbldnsd.start(FAULTY)
    yield server
    server.stop()


def _event(key: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(time=NOW - timedelta(minutes=30), source="test", source_key=key,
                                direction="inbound", disposition="rejected", sender="spam@junk-offers.example",
                                recipient="ben@ours.example", client_ip=LISTED_IP, rejected_by="gateway",
                                cause="gateway_reputation", reason="blocked", smtp_code=554,
                                enhanced_status="5.7.1", dnsbl_zone="zen.spamhaus.org",
                                reply_text=f"Client host [{LISTED_IP}] blocked using zen.spamhaus.org")
    base.update(kw)
    return TrackingEvent(**base).as_row()


def _load(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.session() as s:
        queries.insert_events(s, rows)
        s.commit()


def test_inbound_rejection_is_cross_checked_live(store: Store, dns_server: Rbldnsd) -> None:
    _load(store, [_event("r1")])
    settings = settings_for(dns_server.port)
    with store.session() as s:
        d = diagnose(s, parse_target("spam@junk-offers.example"), settings=settings,
                     checker=BlacklistChecker.from_settings(settings))
    zen = [r for r in d.blacklists if r["target"] == LISTED_IP and r["zone"] == "zen.spamhaus.org"]
    assert zen and zen[0]["result"] == "listed" and "127.0.0.3" in zen[0]["codes"]
    assert any(f"{LISTED_IP}: listed" in n and "names zen.spamhaus.org" in n for n in d.blacklist_notes)
    assert any(r["target"] == "junk-offers.example" for r in d.blacklists)  # the sender domain on domain lists


def test_faulty_zones_are_unknown_never_clean(store: Store, faulty_server: Rbldnsd) -> None:
    _load(store, [_event("r1")])
    settings = settings_for(faulty_server.port, dns_timeout=0.5)
    with store.session() as s:
        d = diagnose(s, parse_target("spam@junk-offers.example"), settings=settings,
                     checker=BlacklistChecker.from_settings(settings))
    by_zone = {r["zone"]: r for r in d.blacklists if r["target"] == LISTED_IP}
    for zone in ("zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "psbl.surriel.com",
                 "dnsbl-1.uceprotect.net"):
        assert by_zone[zone]["result"] == "unknown", zone
    assert any(n.startswith("Could not be checked") for n in d.blacklist_notes)


def test_outbound_block_names_our_ip_and_the_receivers_contacts(store: Store, dns_server: Rbldnsd) -> None:
    _load(store, [_event("o1", direction="outbound", disposition="bounced", sender="me@ours.example",
                         recipient=f"ops@{RECEIVER}", client_ip="10.0.0.5", rejected_by="remote",
                         cause="remote_blacklist", dnsbl_zone="bl.spamcop.net",
                         relay=f"mx.{RECEIVER}[198.51.100.9]:25",
                         reply_text=f"554 5.7.1 Client host [{LISTED_IP}] blocked using bl.spamcop.net")])
    settings = settings_for(dns_server.port)
    with store.session() as s:
        d = diagnose(s, parse_target("me@ours.example"), settings=settings,
                     checker=BlacklistChecker.from_settings(settings), soa_lookup=soa_lookup_from_settings(settings))
    assert d.verdict.cause == "remote_blacklist"
    spamcop = [r for r in d.blacklists if r["target"] == LISTED_IP and r["zone"] == "bl.spamcop.net"]
    assert spamcop and spamcop[0]["result"] == "listed"  # the IP quoted in the remote's reply, checked live
    contact = d.contacts[0]
    assert contact.postmaster == f"postmaster@{RECEIVER}"
    assert contact.soa_contact == "hostmaster@bouncebot.test"


def test_a_zone_named_by_alias_is_cross_checked(store: Store, dns_server: Rbldnsd) -> None:
    _load(store, [_event("a1", dnsbl_zone="sbl.spamhaus.org",
                         reply_text=f"Client host [{LISTED_IP}] blocked using sbl.spamhaus.org")])
    settings = settings_for(dns_server.port)
    with store.session() as s:
        d = diagnose(s, parse_target("spam@junk-offers.example"), settings=settings,
                     checker=BlacklistChecker.from_settings(settings))
    assert any("names sbl.spamhaus.org" in n and f"{LISTED_IP}: listed" in n for n in d.blacklist_notes)
