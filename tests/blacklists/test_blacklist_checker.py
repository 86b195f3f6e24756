"""BlacklistChecker against a real rbldnsd serving the real zone names (tests/blacklists/rbldnsd.py)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.blacklists import (
    HEALTH_BROKEN,
    HEALTH_OK,
    LISTED,
    NOT_APPLICABLE,
    NOT_LISTED,
    UNKNOWN,
    BlacklistChecker,
    InvalidTarget,
    load_zones,
)
from tests.blacklists.rbldnsd import (
    CLEAN_IP,
    CLEAN_IP6,
    EXCLUDED_IP6,
    FAULTY,
    HEALTHY,
    LISTED_IP,
    LISTED_IP6,
    PBL_EXCLUDED,
    PHISH_PARENT,
    REGISTRABLE_LISTED,
    SOA,
    URIBL_LISTED,
    Rbldnsd,
    find_rbldnsd,
    settings_for,
)
from tests.support import unavailable

pytestmark = pytest.mark.rbldnsd

IP_ZONES = [z.name for z in load_zones() if z.kind == "ip"]
DOMAIN_ZONES = [z.name for z in load_zones() if z.kind == "domain"]


def by_zone(results, target=None):
    return {r.zone: r for r in results if target is None or r.target == target}


@pytest.fixture
def checker(rbldnsd_server):
    return BlacklistChecker.from_settings(settings_for(rbldnsd_server.port))


def test_listed_ipv4_with_several_codes_and_txt(checker):
    results = by_zone(checker.check([LISTED_IP]))
    assert list(results) == IP_ZONES  # one result per IP zone, in table order
    zen = results["zen.spamhaus.org"]
    assert zen.result == LISTED
    assert zen.codes == ("127.0.0.3", "127.0.0.4")
    assert "CSS" in zen.meaning and "XBL" in zen.meaning
    assert "CSS listing for 192.0.2.99" in zen.txt and "XBL listing for 192.0.2.99" in zen.txt
    assert zen.delist_url == "https://check.spamhaus.org/results/?query=192.0.2.99"
    assert zen.trustworthy and not zen.why
    assert results["bl.mailspike.net"].codes == ("127.0.0.2", "127.0.0.11")
    assert results["all.spamrats.com"].meaning.startswith("RATS-Spam")
    assert results["psbl.surriel.com"].result == NOT_LISTED


def test_not_listed(checker):
    results = checker.check([CLEAN_IP])
    assert {r.result for r in results} == {NOT_LISTED}
    assert all(r.codes == () and r.txt == "" for r in results)


def test_excluded_entry_in_a_listed_range(checker):
    zen = {r.target: r for r in checker.check(["198.51.100.8", PBL_EXCLUDED]) if r.zone == "zen.spamhaus.org"}
    assert zen["198.51.100.8"].result == LISTED and zen["198.51.100.8"].codes == ("127.0.0.11",)
    assert "PBL" in zen["198.51.100.8"].meaning
    assert zen[PBL_EXCLUDED].result == NOT_LISTED


def test_ipv6_listed_and_not_listed(checker):
    results = checker.check([LISTED_IP6, EXCLUDED_IP6, CLEAN_IP6])
    zen = {r.target: r for r in results if r.zone == "zen.spamhaus.org"}
    assert zen[LISTED_IP6].result == LISTED and zen[LISTED_IP6].codes == ("127.0.0.3",)
    assert zen[LISTED_IP6].txt == f"CSS IPv6 listing {LISTED_IP6}"
    assert zen[EXCLUDED_IP6].result == NOT_LISTED
    assert zen[CLEAN_IP6].result == NOT_LISTED
    ipv4_only = [r for r in results if r.zone != "zen.spamhaus.org"]
    assert ipv4_only and {r.result for r in ipv4_only} == {NOT_APPLICABLE}
    assert all("IPv4" in r.why for r in ipv4_only)


def test_mapped_ipv4_in_ipv6_is_checked_as_ipv4(checker):
    mapped = f"::ffff:{LISTED_IP}"
    results = by_zone(checker.check([mapped]))
    assert results["zen.spamhaus.org"].result == LISTED
    assert results["zen.spamhaus.org"].target == mapped
    assert results["zen.spamhaus.org"].name == LISTED_IP
    assert results["bl.spamcop.net"].result == LISTED  # an IPv4-only list applies


def test_domain_listed_via_a_parent_entry(checker):
    target = f"login.bank.{PHISH_PARENT}"
    results = by_zone(checker.check([target]))
    assert list(results) == DOMAIN_ZONES  # domains go to the domain lists only
    dbl = results["dbl.spamhaus.org"]
    assert dbl.result == LISTED and dbl.codes == ("127.0.1.4",) and dbl.meaning == "phishing domain"
    assert dbl.txt == "Phish domain phish.example"
    assert results["multi.surbl.org"].result == NOT_LISTED


def test_registrable_domain_lookup(checker):
    target = f"mail.{REGISTRABLE_LISTED}"   # only spamdomain.co.uk itself is on the list
    dbl = by_zone(checker.check([target]))["dbl.spamhaus.org"]
    assert dbl.result == LISTED
    assert dbl.name == REGISTRABLE_LISTED          # not "co.uk": the public-suffix list knows co.uk
    assert dbl.delist_url.endswith(REGISTRABLE_LISTED)


def test_idna_domain_and_bitmask_answer(checker):
    results = by_zone(checker.check([URIBL_LISTED, "bücher.example"]), URIBL_LISTED)
    uribl = results["multi.uribl.com"]
    assert uribl.result == LISTED and uribl.codes == ("127.0.0.6",)
    assert "black" in uribl.meaning and "grey" in uribl.meaning
    idn = by_zone(checker.check(["bücher.example"]))["dbl.spamhaus.org"]
    assert idn.result == NOT_LISTED and idn.name == "xn--bcher-kva.example"


def test_health_of_a_healthy_server(checker):
    verdicts = {v.zone: v for v in checker.health()}
    assert set(verdicts) == set(IP_ZONES + DOMAIN_ZONES)
    assert {v.state for v in verdicts.values()} == {HEALTH_OK}


def test_json_shape(checker):
    row = checker.check([LISTED_IP])[0].to_json()
    assert {"target", "zone", "result", "codes", "meaning", "txt", "why", "ms", "trustworthy",
            "delist_url"} <= set(row)
    json.dumps(row)


def test_async_interface(checker):
    results = asyncio.run(checker.check_async([LISTED_IP, "dbltest.com"]))
    assert by_zone(results, "dbltest.com")["dbl.spamhaus.org"].result == LISTED


def test_sync_check_from_inside_a_running_loop(checker):
    async def inside():
        return checker.check([LISTED_IP])
    assert by_zone(asyncio.run(inside()))["zen.spamhaus.org"].result == LISTED


# ---- faults --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty_checker(faulty_rbldnsd):
    checker = BlacklistChecker.from_settings(settings_for(faulty_rbldnsd.port, dns_timeout=0.5))
    return checker


@pytest.mark.parametrize(("zone", "why"), [
    ("bl.spamcop.net", "timed out"),
    ("b.barracudacentral.org", "REFUSED"),
    ("psbl.surriel.com", "SERVFAIL"),
    ("zen.spamhaus.org", "127.255.255.254"),
    ("dnsbl-1.uceprotect.net", "broken"),
])
def test_every_fault_is_unknown_never_listed(faulty_checker, zone, why):
    for target in (LISTED_IP, CLEAN_IP, "203.0.113.9"):
        result = by_zone(faulty_checker.check([target]))[zone]
        assert result.result == UNKNOWN, (target, result)
        assert why in result.why
        assert result.result != LISTED


def test_domain_faults(faulty_checker):
    results = by_zone(faulty_checker.check(["dbltest.com"]))
    assert results["dbl.spamhaus.org"].result == UNKNOWN
    assert "outside 127.0.0.0/8" in results["dbl.spamhaus.org"].why
    assert results["multi.uribl.com"].result == UNKNOWN and "127.0.0.1" in results["multi.uribl.com"].why
    assert results["multi.surbl.org"].result == NOT_LISTED  # healthy neighbours still answer


def test_zone_listing_everything_is_broken_and_untrusted(faulty_checker):
    result = by_zone(faulty_checker.check([CLEAN_IP]))["dnsbl-1.uceprotect.net"]
    assert result.result == UNKNOWN and not result.trustworthy and result.meaning == ""
    verdicts = {v.zone: v for v in faulty_checker.health()}
    assert verdicts["dnsbl-1.uceprotect.net"].state == HEALTH_BROKEN
    assert "127.0.0.1" in verdicts["dnsbl-1.uceprotect.net"].why
    assert verdicts["bl.mailspike.net"].state == HEALTH_OK
    assert verdicts["bl.spamcop.net"].state == "unknown"


def test_dead_zone_costs_its_limit_once(faulty_checker):
    checker = BlacklistChecker.from_settings(settings_for(faulty_checker.resolver.port, dns_timeout=1.5))
    first = by_zone(checker.check([CLEAN_IP]))["bl.spamcop.net"]
    started = time.perf_counter()
    second = by_zone(checker.check(["203.0.113.77"]))["bl.spamcop.net"]
    elapsed = time.perf_counter() - started
    assert first.result == second.result == UNKNOWN
    assert "not asked again" in second.why
    assert elapsed < 1.2  # did not wait for the dead zone again (its limit is 1.5 s; wide margin for a busy box)


def test_broken_zone_recovers(tmp_path):
    binary = find_rbldnsd()
    if not binary:
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    broken = {**HEALTHY, ("dnsbl-1.uceprotect.net", "acl"): FAULTY[("dnsbl-1.uceprotect.net", "acl")]}
    server = Rbldnsd.start(broken, binary=binary)
    now = [1000.0]
    zones = [z for z in load_zones() if z.name == "dnsbl-1.uceprotect.net"]
    checker = BlacklistChecker(zones, nameservers=["127.0.0.1"], port=server.port, timeout=1.0,
                               health_interval=30, clock=lambda: now[0])  # answers' TTL is 60 s
    try:
        assert checker.check([CLEAN_IP])[0].result == UNKNOWN
        assert checker.health_state("dnsbl-1.uceprotect.net").broken
    finally:
        server.stop()
    server = Rbldnsd.start(HEALTHY, binary=binary, port=server.port)
    try:
        assert checker.check(["203.0.113.5"])[0].result == UNKNOWN  # verdict still fresh: still untrusted
        now[0] += 31                      # the verdict ages out (probed again); the old answers' TTL has not
        result = checker.check([CLEAN_IP])[0]   # asked before, while broken: that answer must not be reused
        assert result.result == NOT_LISTED and result.trustworthy and not result.cached
        assert checker.health_state("dnsbl-1.uceprotect.net").state == HEALTH_OK
    finally:
        server.stop()


# ---- slow zones ----------------------------------------------------------------------------------------------


def test_slow_zone_is_waited_for_concurrently(slow_proxy):
    slow_proxy.delays["psbl.surriel.com"] = 0.3
    checker = BlacklistChecker.from_settings(settings_for(slow_proxy.port, dns_timeout=2.0))
    started = time.perf_counter()
    results = by_zone(checker.check([LISTED_IP, CLEAN_IP]), CLEAN_IP)
    elapsed = time.perf_counter() - started
    assert results["psbl.surriel.com"].result == NOT_LISTED
    assert results["psbl.surriel.com"].ms >= 300
    assert slow_proxy.delayed >= 2
    assert elapsed < 2.0 + 1.0  # bounded by one zone's limit, not by the sum over zones (generous margin)


def test_total_time_is_bounded_by_the_per_zone_limit(slow_proxy):
    slow_proxy.delays["zen.spamhaus.org"] = 3.0
    slow_proxy.delays["bl.spamcop.net"] = 3.0
    checker = BlacklistChecker.from_settings(settings_for(slow_proxy.port, dns_timeout=0.5))
    started = time.perf_counter()
    results = by_zone(checker.check([LISTED_IP]))
    elapsed = time.perf_counter() - started
    assert results["zen.spamhaus.org"].result == UNKNOWN and "timed out" in results["zen.spamhaus.org"].why
    assert results["bl.spamcop.net"].result == UNKNOWN
    assert results["bl.mailspike.net"].result == LISTED
    assert elapsed < 0.5 + 1.0  # two zones of 3 s each, yet the check ends near the 0.5 s limit


# ---- cache ---------------------------------------------------------------------------------------------------


def test_cache_hits_until_the_ttl_expires(rbldnsd_server):
    now = [0.0]
    checker = BlacklistChecker(load_zones(), nameservers=["127.0.0.1"], port=rbldnsd_server.port, timeout=1.0,
                               clock=lambda: now[0])
    first = checker.check([LISTED_IP])
    sent = checker.queries_sent
    second = checker.check([LISTED_IP])
    assert checker.queries_sent == sent          # nothing asked again
    assert all(r.cached for r in second) and not any(r.cached for r in first)
    assert [r.to_json()["codes"] for r in first] == [r.to_json()["codes"] for r in second]
    assert [r.txt for r in first] == [r.txt for r in second]
    assert checker.cache.hits >= len(IP_ZONES)
    now[0] += 61                                 # rbldnsd's TTL is 60 s
    third = checker.check([LISTED_IP])
    assert checker.queries_sent > sent and not any(r.cached for r in third)


# ---- configuration -------------------------------------------------------------------------------------------


def test_custom_zone_configuration(tmp_path):
    binary = find_rbldnsd()
    if not binary:
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    datasets = {**HEALTHY, ("bl.example.net", "ip4set"): SOA + ":127.0.0.5:ours $\n127.0.0.2\n203.0.113.50\n"}
    zones_file = tmp_path / "zones.json"
    zones_file.write_text(json.dumps({
        "extends": "default", "remove": ["bl.spamcop.net"],
        "add": [{"name": "bl.example.net", "kind": "ip", "codes": {"127.0.0.5": "listed by us"},
                 "url": "https://bl.example.net/?ip={target}"}],
    }))
    server = Rbldnsd.start(datasets, binary=binary)
    try:
        checker = BlacklistChecker.from_settings(settings_for(server.port, dnsbl_zones_file=str(zones_file)))
        results = by_zone(checker.check(["203.0.113.50"]))
        assert "bl.spamcop.net" not in results
        ours = results["bl.example.net"]
        assert ours.result == LISTED and ours.meaning == "listed by us" and ours.txt == "ours 203.0.113.50"
        assert ours.delist_url == "https://bl.example.net/?ip=203.0.113.50"
    finally:
        server.stop()


def test_dqs_key_is_used_and_never_shown(tmp_path):
    binary = find_rbldnsd()
    if not binary:
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    key = "s3cretdqskey"
    datasets = {(f"{key}.zen.dq.spamhaus.net", kind): text for (zone, kind), text in HEALTHY.items()
                if zone == "zen.spamhaus.org"}
    server = Rbldnsd.start(datasets, binary=binary)
    try:
        checker = BlacklistChecker.from_settings(settings_for(server.port, spamhaus_dqs_key=key))
        results = [r for r in checker.check([LISTED_IP]) if r.zone == "zen.spamhaus.org"]
        assert results[0].result == LISTED
        # the keyed DBL is not served: its failure message must not leak the key either
        dbl = [r for r in checker.check(["dbltest.com"]) if r.zone == "dbl.spamhaus.org"]
        assert dbl[0].result == UNKNOWN
        everything = json.dumps([r.to_json() for r in results + dbl])
        everything += json.dumps([v.to_json() for v in checker.health()])
        assert key not in everything
    finally:
        server.stop()


def test_zone_that_needs_a_missing_key_is_unknown(tmp_path, rbldnsd_server):
    zones_file = tmp_path / "zones.json"
    zones_file.write_text(json.dumps({"zones": [
        {"name": "keyed.example.net", "needs_key": True, "keyed_name": "{key}.keyed.example.net",
         "codes": {"127.0.0.2": "x"}}]}))
    checker = BlacklistChecker.from_settings(settings_for(rbldnsd_server.port, dnsbl_zones_file=str(zones_file)))
    result = checker.check([CLEAN_IP])[0]
    assert result.result == UNKNOWN and "needs a key" in result.why


@pytest.mark.parametrize(("targets", "message"), [
    ([], "empty target"),
    ([""], "empty target"),
    (["192.0.2.1", "not an ip"], "not an IP address or a domain: 'not an ip'"),
    (["300.1.2.3"], "not an IP address or a domain"),
])
def test_bad_input_is_refused_before_any_query(checker, targets, message):
    with pytest.raises(InvalidTarget) as caught:
        checker.check(targets)
    assert message in str(caught.value)
    assert checker.queries_sent == 0


def test_sync_check_from_several_threads(checker):
    from concurrent.futures import ThreadPoolExecutor

    targets = [LISTED_IP, CLEAN_IP, "198.51.100.8", "dbltest.com"] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda t: checker.check([t]), targets))
    for target, results in zip(targets, answers, strict=True):
        listed = {r.zone for r in results if r.result == LISTED}
        assert listed == {r.zone for r in checker.check([target]) if r.result == LISTED}
        assert all(r.result != UNKNOWN for r in results)


def test_big_batch_queues_instead_of_failing(rbldnsd_server):
    checker = BlacklistChecker(load_zones(), nameservers=["127.0.0.1"], port=rbldnsd_server.port, timeout=1.0,
                               max_in_flight=4)
    targets = [f"203.0.113.{n}" for n in range(1, 61)] + [LISTED_IP]
    results = checker.check(targets)
    assert len(results) == len(targets) * len(IP_ZONES)
    assert all(r.result in (LISTED, NOT_LISTED) for r in results)
    assert {r.zone for r in results if r.result == LISTED} == {
        "zen.spamhaus.org", "bl.spamcop.net", "bl.mailspike.net", "all.spamrats.com"}
