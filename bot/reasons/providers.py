"""Provider tables: what the large mailbox providers and reputation services mean by their codes.

Two kinds of rule, at two places of the chain (bot.reasons.chain): a rule with a phrase is the provider's own
wording, read with the other specific wording first; a rule without one says what the provider means by a code
(Microsoft's 5.1.10 and 5.4.1 are "no such recipient"; RFC 3463 reads them as null MX and "no answer from
host") and is tried after all wording, before the RFC 3463 reading of the code.
A provider is recognized by the remote host's name (host suffix) or, when the host is not known (a pasted
bounce), by marks its replies carry (Gmail's "gsmtp", Microsoft's "protection.outlook.com").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: provider -> (host suffixes, text marks). Text is the normalized (lowercase) reply.
PROVIDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "microsoft": (
        ("outlook.com", "hotmail.com", "live.com", "msn.com", "office365.com", "outlook.office365.com"),
        ("protection.outlook.com", "prod.outlook.com", "outlook.com", "hotmail.com", "office365",
         "exchange online", "sender.office.com", "go.microsoft.com/fwlink"),
    ),
    "google": (
        ("google.com", "googlemail.com", "gmail.com", "1e100.net"),
        ("gsmtp", "support.google.com"),
    ),
    "googlegroups": (("googlegroups.com",), ("googlegroups.com/", "the group you tried to contact")),
    "au": (("ezweb.ne.jp", "au.com"), ("ezweb.ne.jp", "@au.com")),
    "docomo": (("docomo.ne.jp", "mopera.net"), ("docomo.ne.jp",)),
    "cox": (("cox.net",), ("cox.com/", "cox.net")),
    "orange": (("orange.fr", "wanadoo.fr", "laposte.net"), ("ofr_", "lpn00", "ofr00")),
    "yahoo": (
        ("yahoodns.net", "yahoo.com", "yahoo.co.jp", "aol.com", "ymail.com"),
        ("yahoo", "[bl21]", "[bl22]", "[bl23]", "[ts01]", "[ts02]", "[ts03]", "[tss04]"),
    ),
}


def _status_range(klass: str, subject: int, low: int, high: int) -> Callable[[str], bool]:
    """A predicate true for `klass.subject.N` with low <= N <= high (5.7.606-5.7.649)."""

    def check(status: str) -> bool:
        parts = status.split(".")
        return (len(parts) == 3 and parts[0] == klass and parts[1] == str(subject)
                and parts[2].isdigit() and low <= int(parts[2]) <= high)

    return check


_AUP_NUMBER = re.compile(r"aup#[a-z]*-?(\d{4})\b")


def _aup(*ranges: tuple[int, int]) -> Callable[[str], bool]:
    """A predicate true for a Spectrum/Charter "AUP#I-1310" (incoming), "AUP#O-1010" (outgoing) code number in
    one of the ranges."""

    def check(text: str) -> bool:
        match = _AUP_NUMBER.search(text)
        return match is not None and any(low <= int(match.group(1)) <= high for low, high in ranges)

    return check


def _status_is(*codes: str) -> Callable[[str], bool]:
    wanted = frozenset(codes)
    return lambda status: status in wanted


@dataclass(frozen=True)
class ProviderRule:
    """When `provider` is recognized (None: any sender of such a code), `status` and `phrase` match -> reason."""

    name: str
    reason: str
    provider: str | None = None
    status: Callable[[str], bool] | None = None
    phrase: str | None = None
    reputation: bool = False   # a rejection for the sending IP's or domain's reputation
    only_without_code: bool = False  # applies only when no specific status code says more
    stage: str | None = None   # applies only to a reply at this SMTP stage
    detail: Callable[[str], bool] | None = None  # and what the phrase is followed by (a code number's range)

    def matches(self, provider: str | None, status: str | None, text: str, stage: str = "") -> bool:
        if self.provider is not None and self.provider != provider:
            return False
        if self.stage is not None and self.stage != stage:
            return False
        if self.only_without_code and status is not None and not status.endswith(".0.0"):
            return False
        if self.status is not None and (status is None or not self.status(status)):
            return False
        if self.phrase is not None and self.phrase not in text:
            return False
        return self.detail is None or self.detail(text)


RULES: tuple[ProviderRule, ...] = (
    # Microsoft 365 / Outlook.com (learn.microsoft.com "Email non-delivery reports and SMTP errors").
    # 5.7.606-5.7.649: "Access denied, banned sending IP [x]": the IP is on Microsoft's block list.
    ProviderRule("microsoft-banned-ip", "blocked", status=_status_range("5", 7, 606, 649), reputation=True),
    # 5.7.700-5.7.749: the sending tenant is blocked (over a threshold, or not yet trusted).
    ProviderRule("microsoft-tenant-blocked", "blocked", status=_status_range("5", 7, 700, 749), reputation=True),
    # 5.7.750: "Client blocked from sending from unregistered domains" (the sender domain is not accepted).
    ProviderRule("microsoft-unregistered-domain", "rejected", status=_status_is("5.7.750")),
    # 4.7.650-4.7.699: "temporarily rate limited due to IP reputation".
    ProviderRule("microsoft-ip-reputation", "badreputation", status=_status_range("4", 7, 650, 699),
                 reputation=True),
    # 5.7.511: "Access denied, banned sender".
    ProviderRule("microsoft-banned-sender", "blocked", provider="microsoft", status=_status_is("5.7.511")),
    # 5.4.1: "Recipient address rejected: Access denied" (directory-based edge blocking: no such recipient).
    ProviderRule("microsoft-dbeb", "userunknown", provider="microsoft", status=_status_is("5.4.1", "4.4.1"),
                 phrase="access denied"),
    # 5.1.10: "Recipient not found by SMTP address lookup".
    ProviderRule("microsoft-recipient-not-found", "userunknown", provider="microsoft",
                 status=_status_is("5.1.10")),
    ProviderRule("microsoft-recipient-not-found-text", "userunknown",
                 phrase="recipient not found by smtp address lookup"),
    # Gmail (support.google.com/a/answer/3726730 "SMTP error reference").
    # 5.7.26: "Unauthenticated email ... not accepted due to domain's DMARC policy" / SPF and DKIM both failed.
    ProviderRule("gmail-dmarc", "authfailure", provider="google", status=_status_is("5.7.26", "4.7.26")),
    # 4.7.27 / 5.7.27: SPF failed; 4.7.30 / 5.7.30: DKIM failed (Gmail's own meaning of those codes).
    ProviderRule("gmail-spf-dkim", "authfailure", provider="google",
                 status=_status_is("4.7.27", "5.7.27", "4.7.30", "5.7.30", "4.7.32", "5.7.32")),
    # 4.7.28 / 5.7.28: "unusual rate of unsolicited mail originating from your IP address" (rate limited).
    ProviderRule("gmail-rate", "speeding", status=_status_is("4.7.28", "5.7.28")),
    # 5.7.1 "... very low reputation of the sending IP address / domain".
    ProviderRule("gmail-low-reputation", "badreputation", status=_status_is("5.7.1", "4.7.1", "5.7.0", "4.7.0"),
                 phrase="low reputation", reputation=True),
    # 5.7.1 "Our system has detected that this message is likely unsolicited mail".
    ProviderRule("gmail-unsolicited", "spamdetected", provider="google", phrase="likely unsolicited mail"),
    # 5.2.1 "The email account that you tried to reach is disabled".
    ProviderRule("gmail-disabled", "suspend", provider="google", status=_status_is("5.2.1"), phrase="disabled"),
    # 4.2.1 "The user you are trying to contact is receiving mail at a rate that prevents additional messages".
    ProviderRule("gmail-recipient-rate", "speeding", provider="google", phrase="receiving mail at a rate"),
    # Google Groups refuses a post when the group does not exist or the sender may not post to it.
    ProviderRule("googlegroups-not-allowed", "rejected", provider="googlegroups", only_without_code=True),
    # au (KDDI, ezweb.ne.jp): the recipient's domain filter answers "550 : User unknown" with no address in it;
    # a mailbox that does not exist is answered "550 <address>: User unknown".
    ProviderRule("au-domain-filter", "filtered", phrase=" : user unknown"),
    ProviderRule("au-domain-filter-notice", "filtered", provider="au", phrase="rejected by a remote mail server"),
    # NTT docomo answers "550 Unknown user" after DATA when the recipient's settings refuse the sender.
    ProviderRule("docomo-sender-refused", "rejected", provider="docomo", phrase="unknown user", stage="DATA",
                 only_without_code=True),
    # Cox AUP codes: CDRBL is Cox's own real-time block list of sending IPs.
    ProviderRule("cox-cdrbl", "blocked", provider="cox", phrase="aup#cdrbl", reputation=True),
    # The other Cox AUP codes (cox.com/residential/support/email-error-codes): the code is the finding, the
    # words around it ("rejected", "try again later") say less.
    ProviderRule("cox-cxbl", "blocked", phrase="aup#cxbl", reputation=True),     # IP blocked for spam-like behaviour
    ProviderRule("cox-ipbl", "blocked", phrase="aup#ipbl", reputation=True),     # IP on Spamhaus/CSI/... lists
    ProviderRule("cox-cxdns", "requireptr", phrase="aup#cxdns"),                  # reverse DNS of the IP failed
    ProviderRule("cox-cxsndr", "authfailure", phrase="aup#cxsndr"),               # SPF/DKIM of the sender domain
    ProviderRule("cox-cxsmtp", "rejected", phrase="aup#cxsmtp"),                  # not a legitimate sender
    ProviderRule("cox-cxcnct", "toomanyconn", phrase="aup#cxcnct"),               # concurrent connections
    ProviderRule("cox-cxmxrt", "toomanyconn", phrase="aup#cxmxrt"),               # too many recipients sent to
    ProviderRule("cox-cxthrt", "securityerror", phrase="aup#cxthrt"),             # suspicious account activity
    ProviderRule("cox-cxmj", "securityerror", phrase="aup#cxmj"),
    ProviderRule("cox-urlbl", "spamdetected", phrase="aup#urlbl"),                # a URL in the body is listed
    # Spectrum/Charter AUP numbers (spectrum.net "Understanding email error codes"): "AUP#In-1310".
    ProviderRule("spectrum-blocked", "blocked", phrase="aup#", detail=_aup((1000, 1000), (1200, 1250)),
                 reputation=True),
    ProviderRule("spectrum-sender", "rejected", phrase="aup#", detail=_aup((1010, 1080), (1500, 1500), (1520, 1520))),
    ProviderRule("spectrum-unprocessed", "systemerror", phrase="aup#", detail=_aup((1090, 1090))),
    ProviderRule("spectrum-rdns", "requireptr", phrase="aup#", detail=_aup((1100, 1150))),
    ProviderRule("spectrum-policy", "policyviolation", phrase="aup#", detail=_aup((1160, 1190), (1560, 1560))),
    ProviderRule("spectrum-ipv6", "networkerror", phrase="aup#", detail=_aup((1260, 1260))),
    ProviderRule("spectrum-connections", "toomanyconn", phrase="aup#", detail=_aup((1300, 1340))),
    ProviderRule("spectrum-rate", "speeding", phrase="aup#",
                 detail=_aup((1350, 1490), (1540, 1550), (1580, 1580))),
    ProviderRule("spectrum-size", "mesgtoobig", phrase="aup#", detail=_aup((1530, 1530))),
    # Yahoo / AOL (senders.yahooinc.com "SMTP error codes").
    # "554 delivery error: dd This user doesn't have a yahoo.com account": Yahoo refuses unknown users after DATA.
    ProviderRule("yahoo-no-account", "userunknown", phrase="delivery error: dd this user doesn't have a"),
    ProviderRule("yahoo-bl21", "blocked", phrase="[bl21]", reputation=True),   # IP on Spamhaus lists
    ProviderRule("yahoo-bl22", "blocked", phrase="[bl22]", reputation=True),
    ProviderRule("yahoo-bl23", "blocked", phrase="[bl23]", reputation=True),
    ProviderRule("yahoo-ts01", "speeding", phrase="[ts01]"),                     # unexpected volume or complaints
    ProviderRule("yahoo-ts02", "speeding", phrase="[ts02]"),
    ProviderRule("yahoo-ts03", "blocked", phrase="[ts03]", reputation=True),     # permanently deferred
    ProviderRule("yahoo-tss04", "badreputation", phrase="[tss04]", reputation=True),  # user complaints
    ProviderRule("yahoo-tss05", "badreputation", phrase="[tss05]", reputation=True),
    ProviderRule("yahoo-tss09", "badreputation", phrase="[tss09]", reputation=True),
    ProviderRule("yahoo-tss11", "blocked", phrase="[tss11]", reputation=True),  # excessive unknown recipients
    # Orange / Wanadoo / La Poste end every reply with an error number ("OFR_416", "LPN007_426", "[506]").
    ProviderRule("orange-invalid-recipient", "userunknown", provider="orange", phrase="invalid recipient"),
    ProviderRule("orange-account-blocked", "suspend", provider="orange", phrase="recipient account is blocked"),
    ProviderRule("orange-ip-blocked", "blocked", provider="orange", phrase="client host blocked", reputation=True),
    ProviderRule("orange-content-rejected", "spamdetected", provider="orange", phrase="mail rejected"),
    ProviderRule("orange-service-refused", "blocked", provider="orange", phrase="service refused", reputation=True),
    # Trend Micro Email Reputation Services (ERS, formerly MAPS): "blocked using Trend Micro RBL+" with a
    # link to mail-abuse.com, or "refused by rbl-plus.mail-abuse.org".
    ProviderRule("trendmicro-rbl-plus", "blocked", phrase="rbl+", reputation=True),
    ProviderRule("trendmicro-mail-abuse", "blocked", phrase="mail-abuse.", reputation=True),
    ProviderRule("trendmicro-ers", "blocked", phrase="email reputation", reputation=True),
)


def provider_of(host: str | None, text: str) -> str | None:
    """Which provider answered: by the host's name when known, else by marks in the reply."""
    if host:
        name = host.lower().rstrip(".")
        for provider, (suffixes, _) in PROVIDERS.items():
            if any(name == s or name.endswith("." + s) for s in suffixes):
                return provider
    if text:
        for provider, marks in _MARKS:
            if marks.search(text):
                return provider
    return None


#: Every rule's phrase in one pattern: a reply that contains none of them skips all phrase rules at once.
_ANY_PHRASE = re.compile("|".join(re.escape(rule.phrase) for rule in RULES if rule.phrase))
_STATUS_RULES = tuple(rule for rule in RULES if rule.phrase is None)
_PHRASE_RULES = tuple(rule for rule in RULES if rule.phrase is not None)
_CODELESS_RULES = tuple(rule for rule in _STATUS_RULES if rule.status is None)
_MARKS = tuple((provider, re.compile("|".join(re.escape(m) for m in marks)))
               for provider, (_, marks) in PROVIDERS.items())


def match_wording(provider: str | None, status: str | None, text: str, stage: str = "") -> ProviderRule | None:
    """The first rule with a phrase (a provider's own wording) that applies, or None."""
    if _ANY_PHRASE.search(text) is None:
        return None
    provider = provider or provider_of(None, text)
    for rule in _PHRASE_RULES:
        if rule.matches(provider, status, text, stage):
            return rule
    return None


def match_code(provider: str | None, status: str | None, text: str, stage: str = "") -> ProviderRule | None:
    """The first rule without a phrase (what a provider means by a code) that applies, or None."""
    candidates = _STATUS_RULES if status is not None else _CODELESS_RULES
    if provider is None and any(rule.provider for rule in candidates):
        provider = provider_of(None, text)
    for rule in candidates:
        if rule.matches(provider, status, "", stage):
            return rule
    return None


def match(provider: str | None, status: str | None, text: str, stage: str = "") -> ProviderRule | None:
    """The first provider rule that applies, or None. `provider`: already known from the host's name;
    when None, the reply's own marks decide."""
    provider = provider or provider_of(None, text)
    if _ANY_PHRASE.search(text) is None:
        if status is None and provider is None:
            return None
        candidates: tuple[ProviderRule, ...] = _STATUS_RULES
    else:
        candidates = RULES
    for rule in candidates:
        if rule.matches(provider, status, text, stage):
            return rule
    return None
