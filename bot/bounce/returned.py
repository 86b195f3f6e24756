"""What a bounce tells of the message it returns: who sent it (header From, envelope sender), how it was
signed (DKIM-Signature d= and s=), and the hops its Received fields record. The authentication checks of an
explained bounce (bot.bounce_auth) are asked from these.

Where each comes from:
- `from_domain`: the From header of the returned original (message/rfc822, text/rfc822-headers, or the
  headers quoted after a plain-text bounce's "original message follows" line).
- `envelope_domain`: the envelope sender (MAIL FROM) that SPF checks: the original's Return-Path, else the
  DSN's X-Postfix-Sender field, else the bounce's own To when it names one address (a bounce is sent to the
  envelope sender: RFC 5321 section 4.5.5, RFC 3464 section 2).
- `received_ips`: per Received field of the original, top down, the first IP address of its `from` clause
  (the client that hop received the message from), or None.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from bot.auth.dkim import selectors_in_headers
from bot.bounce.dsn import delivery_status_parts
from bot.bounce.message import headers, original_message

_IP_IN_BRACKETS = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]{7,45})\]")
_BY = re.compile(r"\bby\b", re.IGNORECASE)
_POSTFIX_SENDER = re.compile(r"^X-Postfix-Sender:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$",
                             re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Returned:
    """The returned original's sender, signatures and hops (empty when the bounce returns nothing)."""

    from_domain: str | None = None
    envelope_domain: str | None = None
    signatures: tuple[tuple[str, str], ...] = ()  # (d=, s=) of each DKIM-Signature, in order
    received_ips: tuple[str | None, ...] = ()


def domain_of(address: str) -> str | None:
    """The domain of an address (lowercase, no final dot), or None when it has none."""
    _, at, domain = address.strip().strip("<>").rpartition("@")
    domain = domain.strip().strip(">").lower().rstrip(".")
    return domain if at and domain and "." in domain else None


def _first_domain(values: list[str]) -> str | None:
    for _, address in getaddresses(values):
        domain = domain_of(address)
        if domain:
            return domain
    return None


def received_ip(value: str) -> str | None:
    """The first IP address in a Received field's `from` clause (what precedes `by`), or None."""
    value = " ".join(value.split())
    if not value.lower().startswith("from "):
        return None
    by = _BY.search(value)
    clause = value[: by.start()] if by else value
    for candidate in _IP_IN_BRACKETS.findall(clause):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _envelope_domain(bounce: Message, original: Message | None) -> str | None:
    if original is not None:
        domain = _first_domain(headers(original, "return-path"))
        if domain:
            return domain
    for text in delivery_status_parts(bounce):
        match = _POSTFIX_SENDER.search(text)
        if match and domain_of(match.group(1)):
            return domain_of(match.group(1))
    to = [a for _, a in getaddresses(headers(bounce, "to")) if "@" in a]
    return domain_of(to[0]) if len(to) == 1 else None


def read_returned(bounce: Message) -> Returned:
    """The Returned facts of a bounce message."""
    original = original_message(bounce)
    if original is None:
        return Returned(envelope_domain=_envelope_domain(bounce, None))
    signatures = selectors_in_headers("\n".join(f"DKIM-Signature: {v}" for v in headers(original, "dkim-signature")))
    return Returned(
        from_domain=_first_domain(headers(original, "from")),
        envelope_domain=_envelope_domain(bounce, original),
        signatures=tuple(signatures),
        received_ips=tuple(received_ip(v) for v in headers(original, "received")),
    )
