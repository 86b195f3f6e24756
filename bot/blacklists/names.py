"""What is asked of a block list: a target (IPv4, IPv6, domain) turned into the names to look up.

IPv6 names are built by hand (32 reversed nibbles, RFC 5782 section 2.4) because dnspython's reversename turns
::ffff:a.b.c.d into the IPv4 form; here a mapped address is checked as the IPv4 address it carries, on purpose,
while the zone-health probe ::ffff:7f00:2 needs the real nibble form.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from bot.blacklists.psl import registrable_domain
from bot.targets import is_domain

USAGE = "give an IPv4 address (192.0.2.1), an IPv6 address (2001:db8::1) or a domain (example.com)"


class InvalidTarget(ValueError):
    """A target that is neither an IP address nor a domain; the message says which and what to give."""


@dataclass(frozen=True)
class CheckTarget:
    """One thing to check. `names` are looked up in every applicable zone (a domain: as given, then registrable)."""

    given: str
    kind: str                    # ipv4 | ipv6 | domain
    names: tuple[str, ...]       # the checked forms: "192.0.2.1", or "mail.example.com", "example.com"
    query_names: tuple[str, ...]  # the same, as DNS labels in front of the zone

    @property
    def zone_kind(self) -> str:
        return "domain" if self.kind == "domain" else "ip"


def reverse_ipv4(address: ipaddress.IPv4Address) -> str:
    return ".".join(reversed(str(address).split(".")))


def reverse_ipv6(address: ipaddress.IPv6Address) -> str:
    return ".".join(reversed(address.exploded.replace(":", "")))


def encode_domain(text: str) -> str:
    """Lowercase IDNA (punycode) form of a domain; InvalidTarget when it cannot be one."""
    name = text.strip().rstrip(".").lower()
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError as exc:
        raise InvalidTarget(f"not a valid domain name: {text[:80]!r} ({exc})") from exc
    if not is_domain(ascii_name):
        raise InvalidTarget(f"not an IP address or a domain: {text[:80]!r}; {USAGE}")
    return ascii_name


def parse_check_target(text: str) -> CheckTarget:
    """Classify and prepare one target; raises InvalidTarget with a one-line message for bad input."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidTarget(f"empty target: {USAGE}")
    try:
        address = ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return CheckTarget(raw, "ipv4", (str(address),), (reverse_ipv4(address),))
    if isinstance(address, ipaddress.IPv6Address):
        return CheckTarget(raw, "ipv6", (str(address),), (reverse_ipv6(address),))
    if raw.startswith("@"):
        raw = raw[1:]
    domain = encode_domain(raw)
    registrable = registrable_domain(domain)
    names = (domain,) if registrable in (None, domain) else (domain, registrable)
    return CheckTarget(raw, "domain", names, names)


def probe_query_name(zone_kind: str, ipv6: bool, point: str) -> str:
    """Query label for a zone-health test point (no IPv4 mapping: ::ffff:7f00:2 stays IPv6)."""
    if zone_kind == "domain":
        return point.lower().rstrip(".")
    address = ipaddress.ip_address(point)
    if isinstance(address, ipaddress.IPv6Address):
        return reverse_ipv6(address)
    return reverse_ipv4(address)
