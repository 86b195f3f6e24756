"""The stable, machine-readable vocabularies: reasons (Sisimai's names), causes, dispositions."""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    """The runbook's causes (1-5) plus three of our own."""

    GATEWAY_POLICY = "gateway_policy"
    GATEWAY_REPUTATION = "gateway_reputation"
    INVALID_RECIPIENT = "invalid_recipient"
    REMOTE_BLACKLIST = "remote_blacklist"
    REMOTE_POLICY = "remote_policy"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    TRANSIENT = "transient"
    DELIVERED = "delivered"


REASONS: tuple[str, ...] = (
    "userunknown", "hostunknown", "mailboxfull", "mesgtoobig", "exceedlimit", "toomanyconn",
    "blocked", "badreputation", "authfailure", "spamdetected", "policyviolation", "rejected",
    "securityerror", "filtered", "contenterror", "requireptr", "notcompliantrfc", "norelaying",
    "speeding", "expired", "networkerror", "systemerror", "systemfull", "suspend", "hasmoved",
    "virusdetected", "syntaxerror", "mailererror", "notaccept", "failedstarttls", "vacation",
    "feedback", "delivered", "onhold", "undefined",
)


class Disposition(StrEnum):
    """What happened to one message x recipient."""

    DELIVERED = "delivered"   # handed to the next hop or the mailbox
    DEFERRED = "deferred"     # temporary failure, still queued
    BOUNCED = "bounced"       # a remote server (or our delivery agent) refused it for good
    EXPIRED = "expired"       # gave up after the queue lifetime
    REJECTED = "rejected"     # our gateway refused it during the SMTP session
    ACCEPTED = "accepted"     # taken in by our gateway, no delivery outcome seen (yet)
    QUARANTINED = "quarantined"
    DELETED = "deleted"
    RECEIVED = "received"     # a message entered our queue (Postfix: smtpd client= or pickup); one per message
    WARNED = "warned"         # a reject rule only warned (Postfix reject_warning, header/body WARN): mail went on
    REQUEUED = "requeued"     # handed to an after-queue content filter that queued it again here: the new queue
    #                           id carries the outcome (the traffic report counts the hand-over, as pflogsumm does)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    UNKNOWN = "unknown"


class Side(StrEnum):
    """Who refused the mail: decides whether a reason is cause 1-3 or 3-5."""

    GATEWAY = "gateway"
    REMOTE = "remote"


#: Dispositions that mean the mail did not get through.
FAILED_DISPOSITIONS = frozenset({Disposition.BOUNCED, Disposition.EXPIRED, Disposition.REJECTED})
