"""The known runbook as data: what each cause means, and what to do next.

Causes 1-5 follow the vendor's mail-tracking runbook; the last three are bouncebot's own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CauseInfo:
    title: str          # short, for headings
    explanation: str    # one sentence, for the verdict
    next_steps: tuple[str, ...]
    weight: float       # how decisive this cause is when ranking findings


CAUSES: dict[str, CauseInfo] = {
    "gateway_policy": CauseInfo(
        "Our gateway's policy",
        "our gateway refused the mail because it broke one of our policies (a block list, an access rule, "
        "a size or recipient limit, a HELO rule)",
        (
            "Check which rule matched (the reply text above names it) and whether the rule is still wanted.",
            "If the sender is trusted, add it to the approved senders.",
            "If a limit was hit (size, recipients), ask the sender to split or shrink the mail, or change the policy.",
        ),
        1.0,
    ),
    "gateway_reputation": CauseInfo(
        "Our reputation service",
        "our gateway's reputation check refused the sending IP because it is on a reputation/DNS block list",
        (
            "Look the sending IP up on the block lists (results below).",
            "If the sender is trusted, add it to the approved senders so the reputation check is bypassed.",
            "Ask the sender to get the IP delisted (the list's lookup page says why it is listed).",
        ),
        1.0,
    ),
    "invalid_recipient": CauseInfo(
        "Invalid recipient",
        "the recipient address does not exist",
        (
            "Verify the recipient address (spelling, departed staff, an alias that was removed).",
            "Ask the sender to correct the address and send again.",
        ),
        1.0,
    ),
    "remote_blacklist": CauseInfo(
        "On a blacklist the receiving side uses",
        "the receiving side refused our sending IP or domain because it is on a block list it uses",
        (
            "Look our outbound IP up on the block lists (results below) and find why it was listed.",
            "Fix the cause (a compromised account, a bulk sender, a misconfigured relay), then request delisting.",
            "If the list is the receiver's own, contact the receiving domain's postmaster.",
        ),
        0.95,
    ),
    "remote_policy": CauseInfo(
        "A policy of the receiving side's filter",
        "a filter at the receiving side refused the mail by its own policy (authentication/DMARC, spam, size...)",
        (
            "Read the receiver's reply text above: it names the policy.",
            "Fix what it names on our side (SPF/DKIM/DMARC alignment, content, size) where that is ours to fix.",
            "Otherwise contact the receiving domain (postmaster@ their domain) with the evidence.",
        ),
        0.9,
    ),
    "recipient_unavailable": CauseInfo(
        "Recipient unavailable",
        "the recipient's mailbox exists but cannot take mail now (full, suspended or disabled)",
        (
            "Tell the sender the recipient's mailbox is full or disabled; reach them another way.",
            "Retry later; if it persists, contact the receiving domain.",
        ),
        0.8,
    ),
    "transient": CauseInfo(
        "A temporary problem",
        "delivery failed temporarily (deferred, rate-limited or a network problem) and may still succeed",
        (
            "Wait: deferred mail is retried automatically until the queue lifetime ends.",
            "If it keeps failing, look at the reply text for rate limits or a receiving-side outage.",
        ),
        0.4,
    ),
    "delivered": CauseInfo(
        "Delivered",
        "nothing bounced",
        ("Nothing to fix here: ask the recipient to look in their spam or quarantine folder.",),
        0.0,
    ),
}

#: What to do about mail the queue gave up on (an expired finding, whatever its cause): it is not retried any more.
EXPIRED_STEPS = (
    "The queue gave up: the mail was returned to its sender, who must send it again once the cause is fixed.",
    "Read the last deferral reason below: it says why every retry failed (a receiving side down or refusing "
    "for a while, rate limits, DNS).",
    "If the receiving side kept deferring, contact it (postmaster@ its domain) with the evidence.",
)

#: The heading of an expired finding: its cause says why the retries failed, not that it may still pass.
EXPIRED_TITLE = "Returned to the sender after its retries (expired)"

UNKNOWN_CAUSE = CauseInfo(
    "Unclassified", "the mail failed for a reason bouncebot could not classify",
    ("Read the reply text above and open a support case if it is unclear.",), 0.5,
)


def cause_info(cause: str | None) -> CauseInfo:
    return CAUSES.get(cause or "", UNKNOWN_CAUSE)


#: How a next step points at the live block-list results; without them (--no-live, nothing to check) it says how.
LIVE_RESULTS = "(results below)"
NO_LIVE_RESULTS = "(not checked live this time: `bouncebot blacklist IP`, or the Re-check button in Slack)"


def finding_title(cause: str | None, expired: bool = False) -> str:
    """A finding's heading: its cause's title, or the expired one for mail the queue gave up on."""
    return EXPIRED_TITLE if expired else cause_info(cause).title


#: Sender-support and delisting pages of the large providers, keyed by host/domain suffix.
PROVIDER_CONTACTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("outlook.com", "hotmail.com", "live.com", "msn.com", "protection.outlook.com", "office365.com"),
     "Microsoft", "https://sender.office.com/ (delist) and https://olcsupport.office.com/ (sender support)"),
    (("gmail.com", "googlemail.com", "google.com", "aspmx.l.google.com"),
     "Google", "https://support.google.com/mail/contact/msgdelivery (sender support) and Postmaster Tools"),
    (("yahoo.com", "yahoodns.net", "aol.com", "ymail.com"),
     "Yahoo", "https://senders.yahooinc.com/contact (sender support)"),
)


def provider_for(name: str | None) -> tuple[str, str] | None:
    """('Microsoft', 'https://...') when a host or domain belongs to a large provider."""
    if not name:
        return None
    name = name.lower().rstrip(".")
    for suffixes, provider, page in PROVIDER_CONTACTS:
        if any(name == s or name.endswith("." + s) for s in suffixes):
            return provider, page
    return None
