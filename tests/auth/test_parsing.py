"""The pure parts: DMARC tag lists, identifier alignment, DKIM selectors from headers, dns targets."""

from __future__ import annotations

import pytest

from bot.auth.dkim import selectors_in_headers
from bot.auth.dmarc import aligned, org_domain, parse_record
from bot.auth.health import parse_dns_target


@pytest.mark.parametrize(("record", "error"), [
    ("v=DMARC1; p=reject; rua=mailto:d@x.example", None),
    ("v=DMARC1;p=none", None),
    ("v=DMARC1; p=quarantine; sp=reject; adkim=s; aspf=r; pct=0; rua=mailto:a@x.example,https://r.example/", None),
    ("p=reject; v=DMARC1", "must start with `v=DMARC1`"),
    ("v=DMARC1; rua=mailto:d@x.example", "`p=` is missing"),
    ("v=DMARC1; p=blocked", "`p=blocked` is not none"),
    ("v=DMARC1; p=none; sp=maybe", "`sp=maybe` is not none"),
    ("v=DMARC1; p=none; aspf=x", "`aspf=x` is not r or s"),
    ("v=DMARC1; p=none; pct=101", "`pct=101`"),
    ("v=DMARC1; p=none; pct=ten", "`pct=ten`"),
    ("v=DMARC1; p=none; rua=d@x.example", "not a mailto: or https: URI"),
    ("v=DMARC1; p=none; p=reject", "appears twice"),
    ("v=DMARC1; p=none; junk", "not a tag=value pair"),
])
def test_dmarc_record_syntax(record: str, error: str | None) -> None:
    _tags, found = parse_record(record)
    assert (found is None) if error is None else (error in (found or "")), found


@pytest.mark.parametrize(("authenticated", "from_domain", "mode", "expected"), [
    ("corp.example", "corp.example", "s", True),
    ("mail.corp.example", "corp.example", "r", True),
    ("mail.corp.example", "corp.example", "s", False),
    ("corp.example", "other.example", "r", False),
    ("a.example.co.uk", "b.example.co.uk", "r", True),    # organisational domain: example.co.uk
    ("example1.co.uk", "example2.co.uk", "r", False),     # co.uk is a public suffix
])
def test_alignment(authenticated: str, from_domain: str, mode: str, expected: bool) -> None:
    assert aligned(authenticated, from_domain, mode) is expected


def test_org_domain_uses_the_public_suffix_list() -> None:
    assert org_domain("news.mail.example.co.uk") == "example.co.uk"
    assert org_domain("corp.example") == "corp.example"


HEADERS = """Received: from mx1.corp.example
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=corp.example;
\ts=sel1; t=1700000000; h=from:to:subject;
\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCd
DKIM-Signature: v=1; a=rsa-sha256; d=esp.example; s=k2024.esp; h=from; bh=x; b=y
dkim-signature: v=1; a=rsa-sha256; d=corp.example; s=sel1; h=from; bh=x; b=z
X-Bad: DKIM-Signature: d=nope.example; s=nope
Subject: hello
"""


def test_selectors_from_headers() -> None:
    assert selectors_in_headers(HEADERS) == [("corp.example", "sel1"), ("esp.example", "k2024.esp")]
    assert selectors_in_headers("Subject: no signature\n") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("corp.example", ("corp.example", None)),
    ("Someone@Corp.Example", ("corp.example", None)),
    ("<someone@corp.example>", ("corp.example", None)),
    ("203.0.113.10", (None, "203.0.113.10")),
    ("2001:db8::25", (None, "2001:db8::25")),
    ("bücher.example", ("xn--bcher-kva.example", None)),
])
def test_dns_targets(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_dns_target(text) == expected


@pytest.mark.parametrize("bad", ["localhost", "bad domain", "x..example", "-", "a@", "x" * 64 + ".example"])
def test_bad_dns_targets(bad: str) -> None:
    with pytest.raises(ValueError, match="not a domain"):
        parse_dns_target(bad)
