"""The one ordered chain of checks that turns what an event carries into a reason and a cause.

Order of evidence (first hit wins; docs/reasons.md says why):
 0. delivered (disposition or a 2.x.x status)
 1. specific wording of the reply: a provider's own wording (bot.reasons.providers, rules with a phrase),
    a named DNS block list ("blocked using zen.spamhaus.org"), then the phrase tables per reason
    (bot.reasons.phrases, in phrases.ORDER). "User unknown" words after DATA or with a 5.2.x mailbox code
    are a recipient's filter (filtered); a hostunknown reported as temporary is a failed lookup.
 2. provider code tables (rules without a phrase): codes that mean something else at Microsoft, Gmail
 3. the enhanced status code: decisive RFC 3463 codes (status.DECISIVE: 5.1.1, 5.2.2, 5.3.4 ...), then
    general ones (status.HINT: 5.7.1 -> blocked, 5.2.0 -> filtered ...)
 4. generic words per reason ("blocked", "spam", "access denied")
 5. the SMTP stage and fallbacks: an expired queue entry, refused at CONNECT/HELO -> blocked, at MAIL FROM ->
    rejected, then onhold (a reply nobody could read) or undefined (nothing at all).
A code is not wording: "550 5.7.1 Rejected - bulk email" is spamdetected, "550 5.7.1 No mailbox found"
userunknown, whatever the general code 5.7.1 suggests.
Classifications are memoized (bounded LRU) on everything they depend on: ingestion calls this per event
and the same few replies repeat all day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.reasons import phrases, providers, status
from bot.reasons.causes import cause_for
from bot.reasons.dnsbl import dnsbl_zone_in
from bot.reasons.normalize import clean_status, normalize, reply_code_in, status_in

#: Replies longer than this are cut before matching: the decisive words come first in every reply seen.
_MAX_TEXT = 2000


@dataclass(frozen=True)
class Classification:
    reason: str
    cause: str
    rule: str = ""  # which table/rule decided, for evidence and tests


_DELIVERED = Classification("delivered", "delivered", "disposition")
_REFUSED_AT_CONNECT = frozenset({"CONNECT", "HELO", "EHLO", "BANNER", "GREETING"})
#: The names callers use for the same stage (Postfix logs say END-OF-MESSAGE, bounces "end of DATA").
_STAGE_NAMES = {"END-OF-MESSAGE": "DATA", "END OF DATA": "DATA", "END-OF-DATA": "DATA", "BDAT": "DATA",
                "MAIL FROM": "MAIL", "RCPT TO": "RCPT", "EHLO": "HELO"}


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
    """Decide reason (Sisimai's vocabulary) and cause (bot.vocab.Cause) for one refused or delivered mail."""
    if disposition == "delivered":
        return _DELIVERED
    raw = text[:_MAX_TEXT] if text else ""
    code = smtp_code if isinstance(smtp_code, int) and 200 <= smtp_code <= 599 else None
    named = (stage or "").strip().upper()
    return _classify(code, clean_status(enhanced_status), raw, _STAGE_NAMES.get(named, named),
                     "gateway" if side == "gateway" else "remote", disposition or "", _host_key(host))


def _host_key(host: str | None) -> str:
    """Only the provider a host belongs to matters: keeps the memo small across many remote hosts."""
    if not host:
        return ""
    return providers.provider_of(host, "") or ""


@lru_cache(maxsize=8192)
def _classify(code: int | None, enhanced: str | None, raw: str, stage: str, side: str, disposition: str,
              provider: str) -> Classification:
    text = normalize(raw)
    found = enhanced or status_in(raw)
    if code is None:
        code = reply_code_in(raw)
    temporary = disposition == "deferred" or (code is not None and 400 <= code < 500) or (
        code is None and found is not None and found.startswith("4."))
    reason, rule, reputation = _reason(code, found, text, stage, disposition, provider)
    cause = cause_for(reason, side=side, temporary=temporary, reputation=reputation)
    return Classification(reason, str(cause), rule)


def _reason(code: int | None, found: str | None, text: str, stage: str, disposition: str,
            provider: str) -> tuple[str, str, bool]:
    """(reason, rule, reputation) following the order of evidence in the module docstring."""
    if (found and found.startswith("2.")) or (code is not None and code < 300 and not found):
        return "delivered", f"status:{found or code}", False
    # 1. specific wording: a provider's own wording, a named block list, the phrase tables
    worded = providers.match_wording(provider or None, found, text, stage)
    if worded is not None:
        # a provider's wording already knows the stage it answers at (Yahoo refuses unknown users after DATA)
        if stage == "MAIL" and worded.reason in _ABOUT_RECIPIENT:
            return _by_stage(stage, worded.reason, f"provider:{worded.name}")
        return worded.reason, f"provider:{worded.name}", worded.reputation
    zone = dnsbl_zone_in(text)
    if zone is not None:
        return "blocked", f"dnsbl:{zone}", True
    coded = providers.match_code(provider or None, found, text, stage)
    hit = phrases.match(text)
    if hit is not None:
        reason, kind = hit
        if coded is not None and coded.reason == reason:
            # the words and the provider's code agree: the provider rule says more (reputation, its name)
            return coded.reason, f"provider:{coded.name}", coded.reputation
        refined = _REFINED_BY_CODE.get((reason, status.decisive(found) or ""))
        if refined is not None:
            return refined, f"{kind}:{reason}+status:{found}", False
        if reason == "networkerror" and _GAVE_UP.search(text):
            # the host could not be reached, and the sending queue then gave up on it (a system error the
            # remote reported, "Unable to contact LDAP server", stays what it is)
            return "expired", f"{kind}:{reason}+gave-up", False
        if reason == "hostunknown" and _is_temporary(code, found):
            # A DNS failure reported as temporary proves nothing about the domain: a lookup failed.
            return "networkerror", f"{kind}:hostunknown-temporary", False
        return _about_recipient(reason, f"{kind}:{reason}", reason == "badreputation", found, stage)
    # 2. provider code tables: what a provider means by a code RFC 3463 reads otherwise
    if coded is not None:
        return coded.reason, f"provider:{coded.name}", coded.reputation
    # 3. the enhanced status code: decisive ones settle it, general ones only hint
    decided = status.decisive(found)
    if decided is not None:
        return decided, f"status:{found}", False
    hinted = status.hint(found)
    if hinted == "hostunknown" and _is_temporary(code, found):
        # 4.4.4 "unable to route", reported as temporary: a lookup or route that failed for now
        return "networkerror", f"status-hint:{found}-temporary", False
    if hinted is not None and hinted != "undefined":
        return _by_stage(stage, hinted, f"status-hint:{found}")
    # 4. generic words, 5. the SMTP stage
    weak = phrases.match_weak(text)
    if weak is not None:
        reason, kind = weak
        return _by_stage(stage, reason, f"{kind}:{reason}")
    return _fallback(code, text, stage, disposition)


def _about_recipient(reason: str, rule: str, reputation: bool, found: str | None,
                     stage: str) -> tuple[str, str, bool]:
    """Wording about the recipient, read with the stage and code it came with."""
    if reason == "userunknown" and stage != "RCPT" and status.decisive(found) != "userunknown" and (
            stage == "DATA" or status.hint(found) == "filtered"):
        # "User unknown" after DATA, or with a mailbox-status code (5.2.x), is a recipient-side filter
        # speaking (Japanese carriers' domain filters answer exactly so), not a missing mailbox -- unless a
        # 5.1.x code confirms the mailbox is missing.
        return "filtered", f"{rule}:userunknown-after-data", False
    if stage == "MAIL" and reason in _ABOUT_RECIPIENT:
        return _by_stage(stage, reason, rule)
    return reason, rule, reputation


#: (what the words say, what a decisive code says) -> reason, where the code does not contradict the words but
#: says more about the same thing: the size limit is the recipient mailbox's (5.2.3), the sending queue gave
#: up after the failures the words describe (x.4.7 delivery time expired).
_REFINED_BY_CODE: dict[tuple[str, str], str] = {
    ("mesgtoobig", "exceedlimit"): "exceedlimit",
    ("networkerror", "expired"): "expired",
    ("systemerror", "expired"): "expired",
}

#: The sending queue's own words for giving up, written after the failure that made it give up: qmail "I'm not
#: going to try again; this message has been in the queue too long", Exim "retry timeout exceeded", "all hosts
#: have been failing for a long time", "retry time not reached for any host after a long failure period".
_GAVE_UP = re.compile(r"not going to try again|in the queue too long|retry timeout exceeded"
                      r"|have been failing for a long time|after a long failure period")

#: Reasons about the recipient: refused at MAIL FROM they are really about the sender.
_ABOUT_RECIPIENT = frozenset({"userunknown", "hostunknown", "filtered", "suspend"})


def _is_temporary(code: int | None, found: str | None) -> bool:
    return (code is not None and 400 <= code < 500) or (found is not None and found.startswith("4."))


def _by_stage(stage: str, reason: str, rule: str) -> tuple[str, str, bool]:
    """A weakly founded reason gives way to what the SMTP stage says: refused at CONNECT/HELO is the
    client being blocked, refused at MAIL FROM is the sender being rejected."""
    if stage in _REFUSED_AT_CONNECT and reason not in ("requireptr", "toomanyconn", "speeding"):
        return "blocked", f"stage:{stage}", False
    if stage == "MAIL" and reason in _ABOUT_RECIPIENT | {"securityerror", "syntaxerror", "systemerror", "blocked"}:
        # a general code or generic words ("550 5.7.1 Access denied") in answer to MAIL FROM judge the sender:
        # client rules run at RCPT TO where servers delay them (Postfix's smtpd_delay_reject, the default)
        return "rejected", f"stage:MAIL({reason})", False
    return reason, rule, reason == "badreputation"


def _fallback(code: int | None, text: str, stage: str, disposition: str) -> tuple[str, str, bool]:
    if disposition == "expired":
        return "expired", "fallback:expired", False
    if stage in _REFUSED_AT_CONNECT:
        return "blocked", f"stage:{stage}", False
    if stage == "MAIL":
        return "rejected", "stage:MAIL", False
    if text or code is not None:
        return "onhold", "fallback:unreadable", False
    return "undefined", "fallback:nothing", False
