"""Targets to query names: IPv4/IPv6 reversal, mapped addresses, IDNA, registrable domains, bad input."""

from __future__ import annotations

import pytest

from bot.blacklists.names import InvalidTarget, parse_check_target, probe_query_name
from bot.blacklists.psl import SuffixRules, public_suffix, registrable_domain


def test_ipv4_is_reversed():
    target = parse_check_target("192.0.2.1")
    assert (target.kind, target.names, target.query_names) == ("ipv4", ("192.0.2.1",), ("1.2.0.192",))


def test_ipv6_is_32_reversed_nibbles():
    target = parse_check_target("2001:db8::1")
    labels = target.query_names[0].split(".")
    assert len(labels) == 32
    assert target.query_names[0] == "1." + "0." * 23 + "8.b.d.0.1.0.0.2"


def test_ipv4_mapped_ipv6_is_checked_as_ipv4():
    target = parse_check_target("::ffff:192.0.2.99")
    assert (target.kind, target.names, target.query_names) == ("ipv4", ("192.0.2.99",), ("99.2.0.192",))
    assert target.given == "::ffff:192.0.2.99"


def test_health_probe_keeps_the_mapped_ipv6_form():
    name = probe_query_name("ip", True, "::ffff:7f00:2")
    assert name == "2.0.0.0.0.0.f.7.f.f.f.f." + "0." * 19 + "0"
    assert probe_query_name("ip", False, "127.0.0.2") == "2.0.0.127"
    assert probe_query_name("domain", False, "TEST") == "test"


def test_domain_as_given_and_registrable():
    target = parse_check_target("Mail.Shop.Example.co.uk.")
    assert target.kind == "domain"
    assert target.names == ("mail.shop.example.co.uk", "example.co.uk")


def test_registrable_domain_is_not_repeated():
    assert parse_check_target("example.com").names == ("example.com",)
    assert parse_check_target("@example.com").names == ("example.com",)


def test_idna_domain_is_punycoded():
    assert parse_check_target("bücher.example").names == ("xn--bcher-kva.example",)
    assert parse_check_target("пример.рф").names == ("xn--e1afmkfd.xn--p1ai",)


@pytest.mark.parametrize(("name", "suffix", "registrable"), [
    ("mail.shop.example.co.uk", "co.uk", "example.co.uk"),
    ("example.com", "com", "example.com"),
    ("co.uk", "co.uk", None),
    ("com", "com", None),
    ("x.evil.github.io", "github.io", "evil.github.io"),      # private section
    ("a.b.shop.kawasaki.jp", "shop.kawasaki.jp", "b.shop.kawasaki.jp"),  # wildcard rule *.kawasaki.jp
    ("a.b.city.kawasaki.jp", "kawasaki.jp", "city.kawasaki.jp"),  # exception !city.kawasaki.jp
    ("www.example.unknowntld", "unknowntld", "example.unknowntld"),  # unknown TLD: the "*" default rule
])
def test_public_suffix_list(name, suffix, registrable):
    assert public_suffix(name) == suffix
    assert registrable_domain(name) == registrable


def test_suffix_rules_wildcard_and_exception():
    rules = SuffixRules.parse("ck\n*.ck\n!www.ck\n// comment\n")
    assert rules.suffix_length(["a", "b", "foo", "ck"]) == 2
    assert rules.suffix_length(["www", "ck"]) == 1


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty target"),
    ("   ", "empty target"),
    ("not an ip", "not an IP address or a domain"),
    ("999.1.1.1", "not an IP address or a domain"),
    ("localhost", "not an IP address or a domain"),
    ("exa mple.com", "not an IP address or a domain"),
    ("-bad-.example", "not an IP address or a domain"),
])
def test_bad_input_has_a_clear_message(text, message):
    with pytest.raises(InvalidTarget) as caught:
        parse_check_target(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_compact_snapshot_encodes_unicode_rules():
    from bot.blacklists.psl import compact

    text = compact("// ===BEGIN ICANN DOMAINS===\n\n// comment\nrf\nрф\n*.ck\n!www.ck\n")
    assert text.splitlines() == ["rf", "xn--p1ai", "*.ck", "!www.ck"]
