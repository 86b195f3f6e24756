"""dnsbl_zone_in: the block list a rejection names, or None when it names none unambiguously."""

from __future__ import annotations

import pytest

from bot.reasons import dnsbl_zone_in

ZONES = [
    # Exim's default dnslists message
    ("rejected because 192.0.2.1 is in a black list at psbl.surriel.com\nListed in PSBL, see "
     "http://psbl.org/listing?ip=192.0.2.1", "psbl.surriel.com"),
    ("Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1",
     "zen.spamhaus.org"),
    ("Client host [192.0.2.1] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1",
     "bl.spamcop.net"),
    ("rejected because 192.0.2.1 is listed in b.barracudacentral.org", "b.barracudacentral.org"),
    ("JunkMail rejected - [192.0.2.1] is in an RBL, see DNSBL: dnsbl.sorbs.net", "dnsbl.sorbs.net"),
    ("Service unavailable; Client host [192.0.2.1] blocked using Trend Micro RBL+. Please see "
     "http://www.mail-abuse.com/cgi-bin/lookup?ip_address=192.0.2.1", "rbl-plus.mail-abuse.org"),
    ("Mail from 192.0.2.1 refused by rbl-plus.mail-abuse.org", "rbl-plus.mail-abuse.org"),
    ("553 http://www.spamhaus.org/query/bl?ip=192.0.2.1", "zen.spamhaus.org"),
    ("Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1", "bl.spamcop.net"),
    ("see http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1", "b.barracudacentral.org"),
    ("Client host [192.0.2.1] BLOCKED USING ZEN.SPAMHAUS.ORG.", "zen.spamhaus.org"),
    # not ASCII: the prefilter scans with re.IGNORECASE instead of lowercasing ("ſ" folds to "s" only there)
    ("Hôte client [192.0.2.1] Blocked Using bl.spamcop.net", "bl.spamcop.net"),
    ("Client host [192.0.2.1] blocked uſing b.barracudacentral.org", "b.barracudacentral.org"),
]


@pytest.mark.parametrize(("text", "zone"), ZONES)
def test_zone_named(text, zone):
    assert dnsbl_zone_in(text) == zone


@pytest.mark.parametrize("text", [
    None, "", "User unknown", "rejected by mx.example.com", "listed in 192.0.2.1",
    "Please visit https://sender.office.com/ to request removal", "see http://www.example.com/help",
    "message blocked by our policy",
])
def test_no_zone_named(text):
    assert dnsbl_zone_in(text) is None
