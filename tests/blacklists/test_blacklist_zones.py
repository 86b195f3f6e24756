"""The zone table as data: the default table, user files (replace, extend), keys, and reading answers."""

from __future__ import annotations

import json

import pytest

from bot.blacklists.answers import read_codes
from bot.blacklists.cache import AnswerCache
from bot.blacklists.results import LISTED, NOT_LISTED, UNKNOWN
from bot.blacklists.zones import ZoneConfigError, find_zone, load_zones

REQUIRED = {"zen.spamhaus.org", "dbl.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "bl.mailspike.net",
            "psbl.surriel.com", "dnsbl-1.uceprotect.net", "all.s5h.net", "bl.0spam.org", "all.spamrats.com",
            "multi.surbl.org", "multi.uribl.com"}


def zone(name):
    return next(z for z in load_zones() if z.name == name)


def test_default_table_has_the_required_lists_and_no_sorbs():
    zones = load_zones()
    names = {z.name for z in zones}
    assert names >= REQUIRED
    assert not any("sorbs" in n for n in names)
    assert {z.name for z in zones if z.kind == "domain"} == {"dbl.spamhaus.org", "multi.surbl.org", "multi.uribl.com"}
    assert zone("zen.spamhaus.org").ipv6 and not zone("bl.spamcop.net").ipv6
    for z in zones:
        assert z.url.startswith("https://"), z.name
        assert z.codes or z.bitmask, z.name


def test_spamhaus_dqs_key_form():
    keyed = {z.name: z for z in load_zones(key="k3y")}
    assert keyed["zen.spamhaus.org"].query_zone == "k3y.zen.dq.spamhaus.net"
    assert keyed["dbl.spamhaus.org"].query_zone == "k3y.dbl.dq.spamhaus.net"
    assert keyed["zen.spamhaus.org"].keyed
    assert keyed["bl.spamcop.net"].query_zone == "bl.spamcop.net"
    assert zone("zen.spamhaus.org").query_zone == "zen.spamhaus.org"  # no key: the public mirror


def test_replace_the_table(tmp_path):
    path = tmp_path / "zones.json"
    path.write_text(json.dumps({"zones": [{"name": "bl.example.net", "kind": "ip", "codes": {"127.0.0.2": "x"}}]}))
    zones = load_zones(path)
    assert [z.name for z in zones] == ["bl.example.net"]


def test_extend_the_default_table(tmp_path):
    path = tmp_path / "zones.json"
    path.write_text(json.dumps({
        "extends": "default",
        "remove": ["bl.spamcop.net", "all.s5h.net"],
        "add": [{"name": "bl.example.net", "codes": {"127.0.0.2": "ours"}},
                {"name": "psbl.surriel.com", "label": "PSBL (ours)", "codes": {"127.0.0.2": "trap"}}],
    }))
    zones = {z.name: z for z in load_zones(path)}
    assert "bl.spamcop.net" not in zones and "all.s5h.net" not in zones
    assert zones["bl.example.net"].codes == {"127.0.0.2": "ours"}
    assert zones["psbl.surriel.com"].label == "PSBL (ours)"
    assert len(zones) == len(REQUIRED) - 2 + 1


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"zones": [{"kind": "ip"}]}', "needs a dotted 'name'"),
    ('{"zones": [{"name": "x.example", "kind": "asn"}]}', "'kind' must be one of"),
    ('{"zones": [{"name": "x.example", "codes": {"banana": "x"}}]}', "is not an IPv4 address"),
    ('{"zones": [{"name": "x.example", "bitmask": {"3": "x"}}]}', "not a single bit"),
    ('{"zones": [{"name": "x.example"}, {"name": "x.example"}]}', "listed twice"),
    ('{"zones": []}', "no zones configured"),
    ('{"extends": "other"}', 'can only be "default"'),
    ('{"extends": "default", "remove": ["dnsbl.sorbs.net"]}', "not in the default table: dnsbl.sorbs.net"),
    ('{"zones": [{"name": "x.example", "needs_key": true}]}', "needs a 'keyed_name'"),
])
def test_bad_zone_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "zones.json"
    path.write_text(content)
    with pytest.raises(ZoneConfigError) as caught:
        load_zones(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_zone_file(tmp_path):
    with pytest.raises(ZoneConfigError, match="cannot read zones file"):
        load_zones(tmp_path / "absent.json")


def test_find_zone_by_name_or_alias():
    zones = load_zones()
    assert find_zone(zones, "ZEN.spamhaus.org.").name == "zen.spamhaus.org"
    assert find_zone(zones, "sbl.spamhaus.org").name == "zen.spamhaus.org"
    assert find_zone(zones, "Barracuda").name == "b.barracudacentral.org"
    assert find_zone(zones, "dnsbl.sorbs.net") is None


def test_codes_with_meanings():
    reading = read_codes(zone("zen.spamhaus.org"), ("127.0.0.3", "127.0.0.4"))
    assert reading.result == LISTED
    assert "CSS" in reading.meaning and "XBL" in reading.meaning
    assert read_codes(zone("zen.spamhaus.org"), ()).result == NOT_LISTED
    assert "not documented" in read_codes(zone("bl.spamcop.net"), ("127.0.0.9",)).meaning


@pytest.mark.parametrize(("name", "code"), [
    ("zen.spamhaus.org", "127.255.255.252"),
    ("zen.spamhaus.org", "127.255.255.254"),
    ("bl.spamcop.net", "127.255.255.255"),     # common to every zone
    ("dbl.spamhaus.org", "127.0.1.255"),       # the DBL's own "IP queries refused"
    ("multi.uribl.com", "127.0.0.1"),          # URIBL / SURBL: resolver blocked
    ("multi.surbl.org", "127.0.0.1"),
])
def test_error_codes_are_unknown_never_listed(name, code):
    reading = read_codes(zone(name), (code,))
    assert reading.result == UNKNOWN
    assert code in reading.why


def test_answers_outside_loopback_are_unknown():
    reading = read_codes(zone("bl.spamcop.net"), ("192.0.2.53",))
    assert reading.result == UNKNOWN and "outside 127.0.0.0/8" in reading.why


def test_bitmask_answers():
    reading = read_codes(zone("multi.uribl.com"), ("127.0.0.6",))
    assert reading.result == LISTED
    assert "black" in reading.meaning and "grey" in reading.meaning and "red" not in reading.meaning
    surbl = read_codes(zone("multi.surbl.org"), ("127.0.0.72",))  # 64 + 8
    assert "PH" in surbl.meaning and "ABUSE" in surbl.meaning and "MW" not in surbl.meaning
    assert "undocumented bits 2" in read_codes(zone("multi.surbl.org"), ("127.0.0.10",)).meaning


def test_answer_cache_is_bounded_and_expires():
    now = [0.0]
    cache = AnswerCache(2, clock=lambda: now[0])
    cache.put("a", 1, ttl=10)
    cache.put("b", 2, ttl=100)
    assert cache.get("a") == 1          # "a" is now the most recently used
    cache.put("c", 3, ttl=100)          # evicts "b"
    assert cache.get("b") is None and cache.get("c") == 3 and len(cache) == 2
    now[0] = 11
    assert cache.get("a") is None       # expired with its TTL
    cache.put("z", 0, ttl=0)            # TTL 0 is not cached
    assert cache.get("z") is None


def test_the_key_is_not_in_a_zone_repr():
    keyed = next(z for z in load_zones(key="s3cret") if z.name == "zen.spamhaus.org")
    assert "s3cret" not in repr(keyed) and keyed.query_zone.startswith("s3cret.")
