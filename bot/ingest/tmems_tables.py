"""The tables that turn TMEMS's own words into dispositions, reasons and causes (data, not code).

TMEMS says *what* happened in its own words: an `action` on accepted traffic ("Delivered", "Bounced", ...), a
blocking `reason` on blocked traffic ("Sender IP found in KSSL", ...), an `eventType`/`eventSubtype` and a
`policyAction` on policy events. Every value here is one the vendor documents; each table names where. Where the
record also carries an SMTP reply (`details`), bot.reasons.classify reads that reply first and these tables say
what the reply does not (see bot.ingest.tmems_map).

Sources (as gathered in ../shared/corpus/tmems/samples.json, `documented_vocab`):
 [HELP]  TMEMS online help, "Blocked Message Details" chart (and its Vision One copy): the blocking reasons.
 [QIL]   Trend Micro KA-0001346: a sender IP on the Quick IP List is refused with a temporary 450.
 [RATE]  Trend Micro KA-0010158: "Rate limit temporarily exceeded", a temporary (4xx) refusal.
 [CEF]   Trend Micro CEF "Mail Tracking Logs (Accepted Traffic)" act values (LogRhythm's device document), the
         Cortex XSIAM modeling rule (demisto/content Packs/TrendMicroEmailSecurity), SEKOIA's test_scanned fixture.
 [API]   Trend Micro REST API help, "Mapping between event types in the request and response".
 [XSIAM] Cortex XSIAM modeling rule TrendMicroEmailSecurityModelingRule_2_11.xif: the policyAction values.
A value no table knows is stored as undefined and counted (`unmapped` in the poll summary): one line here
fixes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.vocab import Cause, Disposition


@dataclass(frozen=True)
class Rule:
    """What a documented value means: the reason and cause, and whether the sender was told to retry."""

    reason: str
    cause: str
    #: A temporary (4xx) refusal: the sender retries, so the disposition is deferred and the cause transient.
    temporary: bool = False
    note: str = ""


# --- blocked traffic: the blocking `reason` (our gateway refused the mail in the SMTP session) ------------------
#: Keyed by the documented text, lowercase. Trend Micro's Email Reputation Services (ERS) lists are the gateway's
#: reputation service: QIL (Quick IP List), KSSL (Known Spam Source List), DUL (Dynamic User List), ETL
#: (Emerging Threat List), and the IP reputation settings' block list.
BLOCKED_REASONS: Mapping[str, Rule] = {
    "sender ip found in qil": Rule("blocked", Cause.TRANSIENT, temporary=True, note="[HELP] [QIL] 450, retried"),
    "sender ip found in kssl": Rule("blocked", Cause.GATEWAY_REPUTATION, note="[HELP] ERS list"),
    "sender ip found in dul": Rule("blocked", Cause.GATEWAY_REPUTATION, note="[HELP] ERS list"),
    "sender ip found in etl": Rule("blocked", Cause.GATEWAY_REPUTATION, note="[HELP] ERS list"),
    "sender ip found in block list": Rule("blocked", Cause.GATEWAY_REPUTATION,
                                          note="[HELP] IP reputation settings' block list"),
    "sender ip blocked": Rule("blocked", Cause.GATEWAY_REPUTATION, note="[HELP] IP reputation"),
    # Outbound: the connecting server is not one of the domain's registered outbound servers (relaying refused).
    "sender ip not allowed": Rule("norelaying", Cause.GATEWAY_POLICY, note="[HELP]"),
    # Connection Filtering > Sender Filter: the customer's blocked senders.
    "sender blocked (block list)": Rule("rejected", Cause.GATEWAY_POLICY, note="[HELP] Sender Filter"),
    # Not in the Valid Recipient list (Recipient Directory Management).
    "recipient invalid": Rule("userunknown", Cause.INVALID_RECIPIENT, note="[HELP]"),
    # The envelope sender's domain does not resolve: Sisimai calls a refusal for the sender address `rejected`.
    "sender domain not found": Rule("rejected", Cause.GATEWAY_POLICY, note="[HELP]"),
    "recipient domain not found": Rule("hostunknown", Cause.INVALID_RECIPIENT, note="[HELP]"),
    # TLS peer enforcement: our policy demands TLS and the peer does not offer it (retrying does not change that).
    "tls not available": Rule("failedstarttls", Cause.GATEWAY_POLICY, note="[HELP]"),
    "message too big": Rule("mesgtoobig", Cause.GATEWAY_POLICY, note="[HELP] global 50 MB limit"),
    "rate limit temporarily exceeded": Rule("speeding", Cause.TRANSIENT, temporary=True, note="[HELP] [RATE]"),
}


# --- accepted traffic: the `action` values [CEF] ---------------------------------------------------------------
@dataclass(frozen=True)
class ActionRule:
    disposition: str
    reason: str | None
    cause: str | None
    #: The outcome came from the next hop: classify the reply in `details` (side remote).
    downstream: bool = False
    #: Held by our gateway while it is analysed: not refused, outcome not known yet (a later record tells it).
    held: bool = False


#: Sisimai's `onhold`: the fate of the message is not decided yet.
_HELD = ActionRule(Disposition.ACCEPTED, "onhold", None, held=True)

ACTIONS: Mapping[str, ActionRule] = {
    "delivered": ActionRule(Disposition.DELIVERED, "delivered", Cause.DELIVERED),
    # Redirected by a policy of ours to another address: delivered, just not to the envelope recipient.
    "redirected": ActionRule(Disposition.DELIVERED, "delivered", Cause.DELIVERED),
    "bounced": ActionRule(Disposition.BOUNCED, "undefined", None, downstream=True),
    # The queue gave up after retrying temporary failures: a final bounce whose cause was transient.
    "expired": ActionRule(Disposition.EXPIRED, "expired", Cause.TRANSIENT, downstream=True),
    "temporary delivery error": ActionRule(Disposition.DEFERRED, "undefined", Cause.TRANSIENT, downstream=True),
    "deferred": ActionRule(Disposition.DEFERRED, "undefined", Cause.TRANSIENT, downstream=True),
    # Deleted or quarantined by a policy of ours; the policy event log says which (malware, sandbox...).
    "deleted": ActionRule(Disposition.DELETED, "filtered", Cause.GATEWAY_POLICY),
    "quarantined": ActionRule(Disposition.QUARANTINED, "filtered", Cause.GATEWAY_POLICY),
    # In progress: the sandbox (Virtual Analyzer) or the password analysis holds the message.
    "scanning in sandbox": _HELD,
    "submitted to sandbox": _HELD,
    "password analyzing": _HELD,
}
UNKNOWN_ACTION = ActionRule(Disposition.ACCEPTED, "undefined", None)

#: What a held record says in its evidence, by action.
HELD_TEXT = ("held by our gateway while it is analysed (not refused); the outcome follows in a later record")


# --- policy events: eventType / eventSubtype -> reason [API] ---------------------------------------------------
_FILE = Rule("virusdetected", Cause.GATEWAY_POLICY)
_URL = Rule("spamdetected", Cause.GATEWAY_POLICY, note="a malicious or suspicious URL in the message")
_AUTH = Rule("authfailure", Cause.GATEWAY_POLICY)
_EXCEPTION = Rule("policyviolation", Cause.GATEWAY_POLICY, note="could not be scanned: the exception rule applied")

#: eventType (lowercase) -> (the rule for the type, {eventSubtype (lowercase): rule where it differs}).
EVENT_TYPES: Mapping[str, tuple[Rule, Mapping[str, Rule]]] = {
    "domain-based authentication": (_AUTH, {}),   # Sender IP Match, SPF, DKIM, DMARC and its four checks
    "malware": (_FILE, {}),                       # Predictive Machine Learning, Pattern-based scanning
    "ransomware": (_FILE, {}),
    "suspicious objects": (_FILE, {"suspicious urls": _URL}),   # Suspicious Files, Suspicious URLs
    "advanced persistent threat": (_FILE, {"analyzed advanced threats (urls)": _URL}),
    "scan exception": (_EXCEPTION, {}),   # Virtual Analyzer scan / submission quota, password protected, other
    "web reputation": (_URL, {}),
}
#: The documented subtypes, per type (the tests hold every one of them to a rule).
EVENT_SUBTYPES: Mapping[str, tuple[str, ...]] = {
    "domain-based authentication": ("sender ip match", "spf", "dkim", "dmarc", "dmarc - spf", "dmarc - dkim",
                                    "dmarc - alignment", "dmarc - availability"),
    "malware": ("predictive machine learning", "pattern-based scanning"),
    "suspicious objects": ("suspicious files", "suspicious urls"),
    "advanced persistent threat": ("analyzed advanced threats (files)", "analyzed advanced threats (urls)",
                                   "probable advanced threats"),
    "scan exception": ("virtual analyzer scan exception", "virtual analyzer submission quota exception",
                       "password protected attachment", "other exceptions"),
}


# --- policy events: policyAction -> disposition [XSIAM] --------------------------------------------------------
#: One policyAction may name several actions ("Quarantine, Notification sent"); the strongest decides:
#: quarantine > delete the message > everything else. Removing or cleaning an attachment leaves the message
#: delivered, as do tagging, stamping, BCC, notifications, encryption and a changed recipient.
QUARANTINE_ACTIONS = frozenset({"quarantine", "quarantined"})
DELETE_ACTIONS = frozenset({"delete", "message deleted"})
DELIVER_ACTIONS = frozenset({
    "bypass", "deliver", "attachment sanitized", "sanitize attachments",
    "attachment deleted upon failure to remove active content", "attachment deleted", "bcc", "cleaned",
    "notification sent", "send notification", "recipient changed", "change recipient", "stamp inserted",
    "insert stamp in body", "subject tagged", "tag subject", "submitted for encryption", "x-header inserted",
    "insert x-header", "clean cleanable malware", "delete those that cannot be cleaned",
})
