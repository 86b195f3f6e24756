"""Bounce reason classifier: (reply code, enhanced status, text, stage, who rejected) -> (reason, cause).

INTERFACE (stable):

    classify(*, smtp_code: int | None, enhanced_status: str | None, text: str | None,
             stage: str | None = None, side: str = "remote", disposition: str | None = None,
             host: str | None = None) -> Classification

    dnsbl_zone_in(text: str | None) -> str | None   # "blocked using zen.spamhaus.org" -> "zen.spamhaus.org"

`side` is "gateway" (our gateway refused inbound mail) or "remote" (a remote server refused our mail);
`stage` is the SMTP stage (CONNECT, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE) where known; `host` is the
remote host name (for provider tables keyed by host suffix).

The order of the checks lives in one place (bot.reasons.chain), by strength of evidence: specific wording of
the reply (a provider's wording, a named block list, the phrase tables) > provider code tables > the enhanced
status code (decisive, then general) > generic words > the SMTP stage and fallbacks (docs/reasons.md).
"""

from __future__ import annotations

from bot.reasons.chain import Classification, classify
from bot.reasons.dnsbl import dnsbl_zone_in
from bot.reasons.phrases import DESCRIPTIONS

__all__ = ["DESCRIPTIONS", "Classification", "classify", "dnsbl_zone_in"]
