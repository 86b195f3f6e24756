"""Bounce reason classifier: (reply code, enhanced status, text, stage, who rejected) -> (reason, cause).

INTERFACE (stable; the reasons work fills in the tables behind it):

    classify(*, smtp_code: int | None, enhanced_status: str | None, text: str | None,
             stage: str | None = None, side: str = "remote", disposition: str | None = None,
             host: str | None = None) -> Classification

    dnsbl_zone_in(text: str | None) -> str | None   # "blocked using zen.spamhaus.org" -> "zen.spamhaus.org"

`side` is "gateway" (our gateway refused inbound mail) or "remote" (a remote server refused our mail);
`stage` is the SMTP stage (CONNECT, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE) where known; `host` is the
remote host name (for provider tables keyed by host suffix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ZONE = re.compile(r"blocked using ([a-z0-9.-]+\.[a-z]{2,})", re.IGNORECASE)


@dataclass(frozen=True)
class Classification:
    reason: str
    cause: str
    rule: str = ""  # which table/rule decided, for evidence and tests


def dnsbl_zone_in(text: str | None) -> str | None:
    """The DNSBL zone a rejection text names, if any."""
    if not text:
        return None
    match = _ZONE.search(text)
    return match.group(1).lower().rstrip(".") if match else None


def classify(
    *,
    smtp_code: int | None,
    enhanced_status: str | None,
    text: str | None,
    stage: str | None = None,
    side: str = "remote",
    disposition: str | None = None,
    host: str | None = None,
) -> Classification:
    """A first, simple classifier (temporary: replaced by the table-driven chain)."""
    lowered = (text or "").lower()
    if disposition == "delivered":
        return Classification("delivered", "delivered", "disposition")
    if smtp_code and 400 <= smtp_code < 500 or disposition == "deferred":
        return Classification("systemerror", "transient", "code-4xx")
    if "user unknown" in lowered or (enhanced_status or "").startswith("5.1.1"):
        return Classification("userunknown", "invalid_recipient", "phrase")
    if dnsbl_zone_in(text):
        return Classification("blocked", "gateway_reputation" if side == "gateway" else "remote_blacklist", "dnsbl")
    return Classification("rejected", "gateway_policy" if side == "gateway" else "remote_policy", "fallback")
