"""The authentication checks of an explained bounce (`bouncebot explain`, a bounce pasted or attached in Slack).

When a recipient was refused for authentication or reverse DNS (reason authfailure/requireptr, or a reply
naming SPF, DKIM, DMARC, "unauthenticated", PTR...: bot.auth.wording), the checks run once for the bounce:
SPF of the envelope sender's domain, DMARC of the returned message's header From domain (alignment judged
against it), DKIM for every d=/s= of its DKIM-Signature headers (and configured selectors), PTR/FCrDNS of
the sending IP. Which IP, first found wins (docs/authentication.md):

1. `reply`: an address the refusal names as the client's ("[192.0.2.9]", "IP: 192.0.2.9"), not one written
   after a host name ("mx.remote.example[198.51.100.25]": the host that answered) nor a Remote-MTA's;
2. `received`: a Received field of the returned headers whose client is one of BOUNCEBOT_OUTBOUND_IPS;
3. `received`: when no other host is named as having answered (the side that refused returned the message
   itself), the first public-looking client address of the returned Received fields, top down: the
   refusing side's own Received field records where it took the mail from. When our relay reports a
   remote's SMTP reply, no returned field can hold the address it sent from (a Received field names the
   client, never the receiver), so this step is skipped;
4. `outbound`: the first BOUNCEBOT_OUTBOUND_IPS; else none (SPF shows the record, PTR is not checked).

Public-looking: not loopback, link-local, multicast, reserved, unspecified, RFC 1918, shared (100.64/10) or
unique-local (fc00::/7) space, where a site's own hops are.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.auth import AuthRequest, auth_checker_for
from bot.auth.wording import names_authentication
from bot.bounce import Bounce, RecipientResult
from bot.config import ConfigError, Settings
from bot.diagnosis.authentication import AuthCheckerLike

#: DKIM signatures checked at most (a message may carry any number; each is a DNS question).
MAX_SIGNATURES = 5
#: Reasons that are no refusal: nothing to check.
_NOT_REFUSED = frozenset({"delivered", "vacation", "feedback"})
_IP = r"(?:IPv6:)?((?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)"
#: "[192.0.2.9]" on its own, and "IP: 192.0.2.9", "ip: [192.0.2.9]", "IP address 192.0.2.9".
_NAMED_IP = re.compile(rf"\[{_IP}\]|\bIP(?:v[46])?(?:\s+address)?\s*(?:[:=]|\bis\b)?\s*\[?{_IP}\]?",
                       re.IGNORECASE)
#: A host name with its address: "mx.remote.example[198.51.100.25]", "mx.remote.example [198.51.100.25]".
_HOST_WITH_IP = re.compile(rf"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\.?\s?\[{_IP}\]")
#: A reply relayed by the sender's MTA: Postfix's "host X[ip] said", Exim's "remote mail server", a transcript.
_RELAYED = re.compile(r"\bhost\s+\S+\s*\[[^\]]+\]|\bremote (?:mail )?server\b|\bremote-mta\b|\bsaid:",
                      re.IGNORECASE)
_SITE_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                         "100.64.0.0/10", "fc00::/7"))


@dataclass(frozen=True)
class BounceAuth:
    """`report`: the checks (AuthReport JSON, with `ip_source`), or None; `note`: why they did not run."""

    report: dict[str, Any] | None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"authentication": self.report, "authentication_note": self.note}


NOT_RUN = BounceAuth(None)


def refused_for_authentication(recipients: Sequence[RecipientResult]) -> list[RecipientResult]:
    return [r for r in recipients if r.reason not in _NOT_REFUSED and names_authentication(r.reason, [r.text])]


def public_looking(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if (address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified
            or address.is_reserved):
        return False
    return not any(address in network for network in _SITE_NETWORKS if network.version == address.version)


def _valid(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def reply_named_ip(texts: Sequence[str], answering: Sequence[str] = ()) -> str | None:
    """The first public-looking address the replies name as the client's (not a host's own address)."""
    hosts = {ip for text in texts for ip in (_valid(m) for m in _HOST_WITH_IP.findall(text)) if ip}
    hosts |= {ip for ip in (_valid(a.strip("[]")) for a in answering) if ip}
    for text in texts:
        for match in _NAMED_IP.finditer(text):
            ip = _valid(match.group(1) or match.group(2))
            if ip and ip not in hosts and public_looking(ip):
                return ip
    return None


def sending_ip(bounce: Bounce, texts: Sequence[str], settings: Settings) -> tuple[str | None, str | None]:
    """(IP, source) by the rule in the module docstring."""
    named = reply_named_ip(texts, bounce.remote_mtas)
    if named:
        return named, "reply"
    received = [ip for ip in bounce.returned.received_ips if ip]
    ours = [ip for ip in received if ip in settings.outbound_ips]
    if ours:
        return ours[0], "received"
    relayed = bool(bounce.remote_mtas) or any(_RELAYED.search(t) for t in texts)
    public = [ip for ip in received if public_looking(ip)]
    if public and not relayed:
        return public[0], "received"
    if settings.outbound_ips:
        return settings.outbound_ips[0], "outbound"
    return None, None


def request_for(bounce: Bounce, refused: Sequence[RecipientResult], settings: Settings,
                checker: AuthCheckerLike) -> AuthRequest | None:
    """What to check for this bounce; None when it names neither the sender's domain nor an IP."""
    returned = bounce.returned
    domain = returned.from_domain or returned.envelope_domain
    ip, source = sending_ip(bounce, [r.text for r in refused], settings)
    if domain is None and ip is None:
        return None
    envelope = returned.envelope_domain if returned.envelope_domain != domain else None
    return AuthRequest(domain=domain, ip=ip, selectors=checker.selectors_for(domain) if domain else (),
                       header_from=returned.from_domain is not None, envelope_domain=envelope,
                       signatures=returned.signatures[:MAX_SIGNATURES], ip_source=source)


def check_bounces(bounces: Sequence[Bounce], settings: Settings, *, live: bool = True,
                  checker: AuthCheckerLike | None = None) -> BounceAuth:
    """The checks for the first bounce with a recipient refused for authentication (once per bounce, not per
    recipient); NOT_RUN when there is none, or `live` is off."""
    first = next(((b, refused) for b in bounces if (refused := refused_for_authentication(b.recipients))), None)
    if not live or first is None:
        return NOT_RUN
    bounce, refused = first
    try:
        checker = checker or auth_checker_for(settings)
    except ConfigError as exc:
        return BounceAuth(None, f"The authentication checks could not run: {exc}.")
    request = request_for(bounce, refused, settings, checker)
    if request is None:
        return BounceAuth(None, "The authentication checks did not run: the bounce names neither the sender's "
                                "domain (no returned headers) nor the sending IP.")
    return BounceAuth(checker.check(request).to_json())
