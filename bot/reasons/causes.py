"""reason + who rejected -> the runbook's cause (bot.vocab.Cause).

The same reason is a different cause depending on the side: a block-list rejection by our gateway is our
reputation service at work (cause 2), by a remote server it is our IP on their list (cause 4).
"""

from __future__ import annotations

from bot.vocab import Cause

#: The recipient address itself is wrong, wherever it was found out.
_INVALID = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
#: The recipient exists but cannot take mail now.
_UNAVAILABLE = frozenset({"mailboxfull", "suspend"})
#: Delivery trouble that retrying (or time) may fix: never a policy decision.
_TRANSIENT = frozenset({"expired", "networkerror", "systemerror", "systemfull", "undefined", "onhold",
                        "mailererror", "syntaxerror", "failedstarttls"})
#: Refusals of the sending IP or host.
_BLOCKS = frozenset({"blocked", "badreputation"})
#: Limits our gateway enforces that are answered with 4xx but are policy all the same (recipient count).
_GATEWAY_LIMITS = frozenset({"toomanyconn", "mesgtoobig", "exceedlimit"})
#: Our gateway's refusals of the client or the sender answered with 4xx by default: still its policy, the client's
#: retries meet the same rule (Postfix reject_unknown_client_hostname "450 4.7.25 Client host rejected: cannot
#: find your hostname", reject_unknown_sender_domain "450 4.1.8 <a@b>: Sender address rejected: Domain not found",
#: reject_unverified_sender "450 4.1.7 ... Sender address rejected: unverified address", defer_unauth_destination --
#: Postfix's default relay restriction -- "454 4.7.1 <a@b>: Relay access denied").
_GATEWAY_REFUSALS = _BLOCKS | {"requireptr", "rejected", "norelaying"}


def cause_for(reason: str, *, side: str, temporary: bool, reputation: bool) -> Cause:
    """The cause for a reason. `reputation`: the rejection named a block list or a reputation service."""
    if reason == "delivered":
        return Cause.DELIVERED
    if reason in _INVALID and not (temporary and reason == "notaccept"):
        # a host that is not accepting mail *for now* ("421 4.3.2 Service shutting down") says nothing of the address
        return Cause.INVALID_RECIPIENT
    if reason in _UNAVAILABLE:
        return Cause.RECIPIENT_UNAVAILABLE
    if reason == "failedstarttls" and not temporary:
        # refused for good for want of TLS ("530 5.7.0 Must issue a STARTTLS command first"): the receiving side's
        # (or our gateway's) TLS policy, not a delivery problem that retrying fixes
        return Cause.GATEWAY_POLICY if side == "gateway" else Cause.REMOTE_POLICY
    if side == "gateway":
        return _gateway_cause(reason, temporary=temporary, reputation=reputation)
    if temporary or reason in _TRANSIENT or reason in ("speeding", "toomanyconn"):
        return Cause.TRANSIENT
    if reason in _BLOCKS:
        return Cause.REMOTE_BLACKLIST
    return Cause.REMOTE_POLICY


def _gateway_cause(reason: str, *, temporary: bool, reputation: bool) -> Cause:
    if reason in _TRANSIENT:
        return Cause.TRANSIENT
    if reason in _BLOCKS and (reputation or reason == "badreputation"):
        return Cause.GATEWAY_REPUTATION
    if temporary and reason not in _GATEWAY_LIMITS and reason not in _GATEWAY_REFUSALS:
        return Cause.TRANSIENT
    return Cause.GATEWAY_POLICY
