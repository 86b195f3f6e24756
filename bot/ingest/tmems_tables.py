"""The phrase tables that turn TMEMS's own words into reasons and causes (data, not code).

TMEMS says *what* happened in its own words: an `action` on accepted traffic ("Delivered", "Bounced", ...), a
blocking `reason` on blocked traffic ("Sender IP found in KSSL", ...), an `eventType` and `policyAction` on policy
events. Each table is ordered: the first rule with a phrase found in the text wins, so the most specific come
first. Phrases come from the vendor's documentation of the console (the "Blocked Message Details" chart, the
Hosted Email Security "Blocking Reason" column, the REST API's field lists); a phrase not seen in a vendor
document is marked "(assumed wording)". A new phrase is one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.vocab import Cause, Disposition


@dataclass(frozen=True)
class Rule:
    """A phrase rule: any of `phrases` (lowercase) found in the text gives `reason` and `cause`."""

    phrases: tuple[str, ...]
    reason: str
    cause: str
    note: str = ""


# --- blocked traffic: TMEMS's blocking reasons (our gateway refused the mail in the SMTP session) --------------
BLOCKED_RULES: tuple[Rule, ...] = (
    # Dashboard > Threats > Blocked Message Details: Trend Micro's Email Reputation Services lists.
    Rule(("sender ip found in qil", "sender ip found in kssl", "sender ip found in dul", "sender ip found in etl",
          "email reputation", "by ers", "(ers)", "rbl+", "quick ip list", "known spam source", "dynamic user list",
          "emerging threat list", "sender ip blocked", "ip reputation"),
         "blocked", Cause.GATEWAY_REPUTATION, "ERS / RBL+ / QIL lists, and the internal global block list"),
    # "Sender IP found in block list": the customer's own Blocked IP Address / Country list: a policy of ours.
    Rule(("sender ip found in block list", "blocked ip address", "blocked country", "ip address block list",
          "connection filtering"),
         "blocked", Cause.GATEWAY_POLICY, "our own IP / country block list"),
    # Inbound Protection > Connection Filtering > Sender Filter (Approved/Blocked Senders).
    Rule(("sender blocked", "sender filter", "blocked sender", "blocked senders list", "block list"),
         "rejected", Cause.GATEWAY_POLICY, "Sender Filter: blocked senders"),
    # "Recipient invalid": not in the Valid Recipient list (Recipient Directory Management).
    Rule(("recipient invalid", "invalid recipient", "recipient not found", "recipient address rejected",
          "user unknown", "unknown user", "no such user", "valid recipient"),
         "userunknown", Cause.INVALID_RECIPIENT, "Recipient Directory Management"),
    Rule(("recipient domain not found",), "hostunknown", Cause.INVALID_RECIPIENT, "no DNS for the domain"),
    Rule(("sender domain not found",), "rejected", Cause.GATEWAY_POLICY, "sender domain has no DNS"),
    # Outbound: the sending server is not one of the Outbound Servers under Domain Management.
    Rule(("sender ip not allowed", "outbound server", "relay denied", "relaying denied"),
         "norelaying", Cause.GATEWAY_POLICY, "not an outbound server of ours"),
    Rule(("tls not available", "tls required", "starttls"), "failedstarttls", Cause.GATEWAY_POLICY,
         "TLS peer enforcement"),
    # "Message too big"; HES: "the status will display Size limit" (552).
    Rule(("message too big", "size limit", "message size", "too large", "exceeds the maximum size"),
         "mesgtoobig", Cause.GATEWAY_POLICY, "global 50 MB limit"),
    Rule(("too many recipients", "recipient limit"), "toomanyconn", Cause.GATEWAY_POLICY,
         "1000 recipients a message; Sisimai calls this toomanyconn"),
    Rule(("attachment", "archive", "compressed", "decompress"), "policyviolation", Cause.GATEWAY_POLICY,
         "archive layers / files / decompressed size (assumed wording)"),
    Rule(("virus", "malware", "threat"), "virusdetected", Cause.GATEWAY_POLICY, "(assumed wording)"),
    Rule(("phish",), "spamdetected", Cause.GATEWAY_POLICY, "(assumed wording)"),
    Rule(("spam detected", "identified as spam", "spam policy", "spam or phish", "detected as spam"),
         "spamdetected", Cause.GATEWAY_POLICY, "(assumed wording)"),
    Rule(("spf", "dkim", "dmarc", "domain-based authentication", "spoof"), "authfailure", Cause.GATEWAY_POLICY,
         "Domain-based Authentication (assumed wording)"),
)


# --- accepted traffic: the `action` values ---------------------------------------------------------------------
@dataclass(frozen=True)
class ActionRule:
    disposition: str
    reason: str | None
    cause: str | None
    #: The outcome came from the next hop: classify the reply in `details` (side remote).
    downstream: bool = False


ACTIONS: Mapping[str, ActionRule] = {
    "delivered": ActionRule(Disposition.DELIVERED, "delivered", Cause.DELIVERED),
    # Redirected by a policy of ours to another address: delivered, just not to the envelope recipient.
    "redirected": ActionRule(Disposition.DELIVERED, "delivered", Cause.DELIVERED),
    "bounced": ActionRule(Disposition.BOUNCED, "undefined", None, downstream=True),
    "expired": ActionRule(Disposition.EXPIRED, "expired", Cause.TRANSIENT, downstream=True),
    "temporary delivery error": ActionRule(Disposition.DEFERRED, "undefined", Cause.TRANSIENT, downstream=True),
    "deferred": ActionRule(Disposition.DEFERRED, "undefined", Cause.TRANSIENT, downstream=True),
    "deferral": ActionRule(Disposition.DEFERRED, "undefined", Cause.TRANSIENT, downstream=True),
    # Deleted or quarantined by a policy of ours; the policy event log says which (spam, virus, content...).
    "deleted": ActionRule(Disposition.DELETED, "filtered", Cause.GATEWAY_POLICY),
    "quarantined": ActionRule(Disposition.QUARANTINED, "filtered", Cause.GATEWAY_POLICY),
    # Taken in, no outcome yet (assumed wording): accepted, nothing to classify.
    "received": ActionRule(Disposition.ACCEPTED, None, None),
    "accepted": ActionRule(Disposition.ACCEPTED, None, None),
    "processing": ActionRule(Disposition.ACCEPTED, None, None),
    "delivering": ActionRule(Disposition.ACCEPTED, None, None),
}
UNKNOWN_ACTION = ActionRule(Disposition.ACCEPTED, "undefined", None)


# --- policy events: eventType -> reason; policyAction -> disposition ------------------------------------------
POLICY_RULES: tuple[Rule, ...] = (
    Rule(("virus", "malware", "threat", "ransomware", "sandbox", "virtual analyzer", "predictive"),
         "virusdetected", Cause.GATEWAY_POLICY),
    Rule(("anti_spoof", "spoof", "spf", "dkim", "dmarc", "domain-based authentication"),
         "authfailure", Cause.GATEWAY_POLICY),
    Rule(("phish", "spam", "graymail", "business email compromise", "high profile", "web reputation"),
         "spamdetected", Cause.GATEWAY_POLICY),
    Rule(("dlp", "data loss", "content_filter", "content filter", "content", "anomaly", "attachment"),
         "policyviolation", Cause.GATEWAY_POLICY),
)
POLICY_ACTIONS: tuple[tuple[str, str], ...] = (
    ("quarantine", Disposition.QUARANTINED),
    ("delete", Disposition.DELETED),
    ("reject", Disposition.REJECTED),
    ("bounce", Disposition.REJECTED),
    ("block", Disposition.REJECTED),
)
