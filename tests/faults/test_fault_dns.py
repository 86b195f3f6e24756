"""DNS faults during diagnoses: a real rbldnsd serving the real zone names with every fault of
../shared/recipes/rbldnsd.md (dead, REFUSED, SERVFAIL, error-code answers, a zone listing everything, answers
outside 127/8), a delaying proxy for a slow zone, and no DNS server at all.

Each diagnosis must come back within the per-zone limit (plus a wide margin for this busy box) and say, zone
by zone, which checks are unknown; a faulty zone is never reported as listed or as clean.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.blacklists import BlacklistChecker
from bot.config import Settings
from bot.diagnosis import Diagnosis, diagnose
from bot.ingest.runner import Ingestor
from bot.store import Store
from bot.targets import parse_target
from tests.blacklists.dnsproxy import DelayingProxy
from tests.blacklists.rbldnsd import faulty_rbldnsd, settings_for  # noqa: F401 - pytest fixture
from tests.faults.procs import report
from tests.support import free_port

pytestmark = pytest.mark.rbldnsd

LIMIT = 1.0                     # seconds per zone (Settings.dns_timeout)
MARGIN = 4.0                    # generous: the box is shared; the bound that matters is "about one LIMIT"
OUTBOUND_IP = "203.0.113.5"
#: Zones FAULTY breaks, by the kind of target they take; every other zone there answers normally.
FAULTY_IP_ZONES = {"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "psbl.surriel.com",
                   "dnsbl-1.uceprotect.net"}
FAULTY_DOMAIN_ZONES = {"dbl.spamhaus.org", "multi.uribl.com"}
TARGETS = ("news@spammy.example", "ops@northwind-traders.example", "192.0.2.99", "phish.example",
           "bulk-sender.example", "192.0.2.1")


def _log(now: datetime) -> str:
    t = [(now - timedelta(hours=h)).isoformat() for h in (5, 4, 3)]
    return "\n".join([
        f"{t[0]} mx1 postfix/smtpd[100]: connect from mail.spammy.example[192.0.2.99]",
        f"{t[0]} mx1 postfix/smtpd[100]: NOQUEUE: reject: RCPT from mail.spammy.example[192.0.2.99]: 554 5.7.1 "
        "Service unavailable; Client host [192.0.2.99] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/192.0.2.99; from=<news@spammy.example> "
        "to=<ops@northwind-traders.example> proto=ESMTP helo=<mail.spammy.example>",
        f"{t[1]} mx1 postfix/pickup[300]: 9A1B2C3D4E: uid=1000 from=<ops>",
        f"{t[1]} mx1 postfix/cleanup[301]: 9A1B2C3D4E: message-id=<1@northwind-traders.example>",
        f"{t[1]} mx1 postfix/qmgr[302]: 9A1B2C3D4E: from=<ops@northwind-traders.example>, size=900, nrcpt=1 "
        "(queue active)",
        f"{t[2]} mx1 postfix/smtp[303]: 9A1B2C3D4E: to=<k@partner.example>, relay=mx.partner.example"
        "[198.51.100.20]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx.partner.example"
        f"[198.51.100.20] said: 554 5.7.1 Service unavailable; Client host [{OUTBOUND_IP}] blocked using "
        "bl.spamcop.net (in reply to RCPT TO command))",
        f"{t[2]} mx1 postfix/qmgr[302]: 9A1B2C3D4E: removed",
    ]) + "\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store holding one inbound DNSBL reject and one outbound blacklist bounce (and its `received`)."""
    path = tmp_path / "mail.log"
    path.write_text(_log(datetime.now(UTC)), encoding="utf-8")
    s = Store.open(f"sqlite:///{tmp_path / 'dns.db'}")
    result = Ingestor(s, "postfix", parser_options={"local_domains": ("northwind-traders.example",)}).ingest(path)
    assert result.new_events == 3, result  # and the outbound message's `received` event (pickup)
    yield s
    s.dispose()


def _settings(port: int) -> Settings:
    return replace(settings_for(port, dns_timeout=LIMIT), outbound_ips=(OUTBOUND_IP,),
                   local_domains=("northwind-traders.example",))


def _timed(store: Store, text: str, settings: Settings, checker: BlacklistChecker) -> tuple[Diagnosis, float]:
    started = time.monotonic()
    with store.session() as session:
        diagnosis = diagnose(session, parse_target(text), settings=settings, checker=checker)
    return diagnosis, time.monotonic() - started


def _assert_unknowns_said(d: Diagnosis, must_be_unknown: set[str]) -> set[str]:
    """Every zone in must_be_unknown that was asked is 'unknown' and named in the notes; returns those zones."""
    assert d.blacklists, f"no live checks ran for {d.target_value}"
    unknown = {r["zone"] for r in d.blacklists if r["result"] == "unknown"}
    asked = {r["zone"] for r in d.blacklists}
    assert asked & must_be_unknown <= unknown, [r for r in d.blacklists if r["zone"] in must_be_unknown]
    if unknown:
        said = [n for n in d.blacklist_notes if n.startswith("Could not be checked:")]
        assert said, d.blacklist_notes
        for zone in unknown:
            assert zone in said[0], (zone, said[0])
        for r in d.blacklists:
            if r["result"] == "unknown":
                assert r.get("why"), r  # the reason is given, not just "unknown"
    return unknown


@pytest.mark.slow
def test_faulty_zones_are_reported_unknown_within_the_limit(store: Store, faulty_rbldnsd) -> None:  # noqa: F811
    settings = _settings(faulty_rbldnsd.port)
    timings, unknown_seen, results = [], set(), 0
    for round_ in range(2):
        for text in TARGETS:
            # A fresh checker each time: every diagnosis meets the dead zone's full timeout again.
            d, seconds = _timed(store, text, settings, BlacklistChecker.from_settings(settings))
            timings.append(seconds)
            results += len(d.blacklists)
            unknown_seen |= _assert_unknowns_said(d, FAULTY_IP_ZONES | FAULTY_DOMAIN_ZONES)
            assert seconds < LIMIT + MARGIN, (text, seconds)
            if round_ == 0 and text == "192.0.2.99":
                assert any(r["zone"] == "bl.mailspike.net" and r["result"] == "listed" for r in d.blacklists)
    assert unknown_seen == FAULTY_IP_ZONES | FAULTY_DOMAIN_ZONES
    report("dns_faults", diagnoses=len(timings), zone_answers=results, faulty_zones=sorted(unknown_seen),
           limit_s=LIMIT, max_s=round(max(timings), 2), mean_s=round(sum(timings) / len(timings), 2))


@pytest.mark.slow
def test_slow_zone_past_the_limit_is_unknown_and_within_it_answered(store: Store, faulty_rbldnsd) -> None:  # noqa: F811
    proxy = DelayingProxy(faulty_rbldnsd.port, {"all.s5h.net": LIMIT * 3, "bl.0spam.org": LIMIT * 0.3})
    proxy.start()
    try:
        settings = _settings(proxy.port)
        timings = []
        for text in ("192.0.2.99", "news@spammy.example", "192.0.2.1"):
            d, seconds = _timed(store, text, settings, BlacklistChecker.from_settings(settings))
            timings.append(seconds)
            _assert_unknowns_said(d, FAULTY_IP_ZONES | FAULTY_DOMAIN_ZONES | {"all.s5h.net"})
            slow = [r for r in d.blacklists if r["zone"] == "all.s5h.net"]
            late_but_in_time = [r for r in d.blacklists if r["zone"] == "bl.0spam.org"]
            assert slow and all(r["result"] == "unknown" for r in slow)
            assert late_but_in_time and all(r["result"] in ("listed", "not_listed") for r in late_but_in_time)
            assert seconds < LIMIT + MARGIN, (text, seconds)
    finally:
        proxy.stop()
    report("dns_slow_zone", diagnoses=len(timings), delayed_answers=proxy.delayed, max_s=round(max(timings), 2))


def test_no_dns_server_at_all_every_check_unknown(store: Store) -> None:
    settings = _settings(free_port())  # nothing listens there
    checker = BlacklistChecker.from_settings(settings)
    timings = []
    for text in TARGETS:
        d, seconds = _timed(store, text, settings, checker)
        timings.append(seconds)
        assert {r["result"] for r in d.blacklists} == {"unknown"}, d.blacklists
        _assert_unknowns_said(d, {r["zone"] for r in d.blacklists})
        assert seconds < LIMIT + MARGIN, (text, seconds)
        assert d.verdict.text  # the rest of the answer is still there
    report("dns_no_server", diagnoses=len(timings), max_s=round(max(timings), 2))


def test_shared_checker_keeps_saying_unknown_after_marking_zones_down(store: Store, faulty_rbldnsd) -> None:  # noqa: F811
    """In production one checker serves every request: later diagnoses skip the dead zone but still name it."""
    settings = _settings(faulty_rbldnsd.port)
    checker = BlacklistChecker.from_settings(settings)
    timings = []
    for _ in range(5):
        for text in TARGETS:
            d, seconds = _timed(store, text, settings, checker)
            timings.append(seconds)
            _assert_unknowns_said(d, FAULTY_IP_ZONES | FAULTY_DOMAIN_ZONES)
    assert max(timings[len(TARGETS):]) < LIMIT + MARGIN
    report("dns_shared_checker", diagnoses=len(timings), first_s=round(timings[0], 2),
           later_max_s=round(max(timings[1:]), 2))
