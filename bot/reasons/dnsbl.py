"""Which DNS block list a rejection text names ("blocked using zen.spamhaus.org", "listed in ...")."""

from __future__ import annotations

import re

_NAME = r"([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,})"

#: Phrases that always introduce a zone name (Postfix reject_rbl_client, Exim dnslists, most filters).
_INTRODUCED = re.compile(
    r"(?:blocked using|listed (?:in|on|at|by)|(?:black|block)listed (?:in|on|at|by)|dnsbl:?|rbl:"
    # Exim's default dnslists message: "rejected because 192.0.2.1 is in a black list at bl.spamcop.net"
    r"|in an? (?:black|block) ?list at)\s+\[?" + _NAME,
    re.IGNORECASE,
)
#: Weaker lead-ins ("refused by X", "rejected by X"): taken only when X looks like a block list.
_WEAK = re.compile(r"(?:refused by|rejected by|found in)\s+\[?" + _NAME, re.IGNORECASE)
_LISTISH = re.compile(r"(?:^|[.-])(?:[a-z]*bl|rbl[a-z-]*|dnsbl|spam[a-z]*|abuse[a-z-]*|blacklist|blocklist)\.",
                      re.IGNORECASE)

#: Web pages and list names that identify the zone without naming it.
_KNOWN = (
    # Trend Micro's Email Reputation Services reject with "blocked using Trend Micro RBL+" and a link to
    # mail-abuse.com; RBL+ is the rbl-plus.mail-abuse.org zone.
    (re.compile(r"trend ?micro rbl\+|\brbl\+|mail-abuse\.(?:com|org)/(?:cgi-bin/lookup|rbl)", re.I),
     "rbl-plus.mail-abuse.org"),
    # Spamhaus web lookups: https://www.spamhaus.org/query/ip/..., /query/bl?ip=..., check.spamhaus.org
    (re.compile(r"spamhaus\.org/(?:query|sbl|xbl|pbl|lookup)|check\.spamhaus\.org", re.I), "zen.spamhaus.org"),
    # SpamCop: https://www.spamcop.net/bl.shtml?ip
    (re.compile(r"spamcop\.net/(?:bl\.shtml|w3m)", re.I), "bl.spamcop.net"),
    # Barracuda: http://www.barracudanetworks.com/reputation/?ip=..., barracudacentral.org/lookups
    (re.compile(r"barracuda(?:networks\.com/reputation|central\.org/(?:lookups|rbl))", re.I), "b.barracudacentral.org"),
)

#: Names that look like zones after "listed in" but are web sites or generic words.
_NOT_ZONES = frozenset({"www.spamhaus.org", "spamhaus.org", "www.spamcop.net", "www.barracudanetworks.com",
                        "mail-abuse.com", "www.mail-abuse.com", "sender.office.com"})


#: Words without which no rule below can match: most replies are turned away by this one scan. An ASCII text is
#: scanned lowercased by the case-sensitive twin (7 µs -> 0.8 µs a reply: re's IGNORECASE alternation is slow);
#: any other text by the IGNORECASE pattern, whose Unicode case folding lower() does not reproduce.
_WORDS = r"using|listed|list at|dnsbl|rbl|refused by|rejected by|found in|spamhaus|spamcop|barracuda|mail-abuse"
_ANY = re.compile(_WORDS, re.IGNORECASE)
_ANY_LOWERCASE = re.compile(_WORDS)


def _may_name_a_zone(text: str) -> bool:
    if text.isascii():
        return _ANY_LOWERCASE.search(text.lower()) is not None
    return _ANY.search(text) is not None


def dnsbl_zone_in(text: str | None) -> str | None:
    """The DNSBL zone a rejection text names, if any; None when it names none unambiguously."""
    if not text or not _may_name_a_zone(text):
        return None
    for match in _INTRODUCED.finditer(text):
        zone = match.group(1).lower().rstrip(".")
        if zone not in _NOT_ZONES:
            return zone
    for match in _WEAK.finditer(text):
        zone = match.group(1).lower().rstrip(".")
        if zone not in _NOT_ZONES and _LISTISH.search(zone):
            return zone
    for pattern, zone in _KNOWN:
        if pattern.search(text):
            return zone
    return None
