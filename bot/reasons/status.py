"""RFC 3463 (and RFC 7372, 7505) enhanced status codes -> reason.

Two strengths: a *decisive* code says exactly what happened (5.1.1: no such mailbox) and settles the reason;
a *hint* code is too general or too widely misused (5.7.1 is sent for spam, block lists, sender policy
and relaying alike) and is used only when no phrase in the reply says more.
Codes are looked up with their class: `5.1.1` first, then `X.1.1` (the same for 4.x.x and 5.x.x).
"""

from __future__ import annotations

#: subject.detail -> reason, where the code alone decides.
DECISIVE: dict[str, str] = {
    "1.1": "userunknown",      # Bad destination mailbox address
    "1.2": "hostunknown",      # Bad destination system address
    "1.3": "userunknown",      # Bad destination mailbox address syntax
    "1.6": "hasmoved",         # Destination mailbox has moved, no forwarding address
    "1.10": "notaccept",       # Recipient address has null MX (RFC 7505)
    "2.2": "mailboxfull",      # Mailbox full
    "2.3": "exceedlimit",      # Message length exceeds administrative limit (per mailbox)
    "3.1": "systemfull",       # Mail system full
    "3.4": "mesgtoobig",       # Message too big for system
    "4.7": "expired",          # Delivery time expired
    "5.3": "toomanyconn",      # Too many recipients
    "6.1": "contenterror",     # Media not supported
    "6.2": "contenterror",     # Conversion required and prohibited
    "6.3": "contenterror",     # Conversion required but not supported
    "6.5": "contenterror",     # Conversion failed
    "6.6": "contenterror",     # Message content not available
    "6.7": "contenterror",     # Non-ASCII addresses not permitted (RFC 6531)
    "6.8": "contenterror",     # UTF-8 reply required but not permitted by the client
    "6.9": "contenterror",     # UTF-8 header cannot be transferred
    "7.13": "suspend",         # User account disabled (RFC 3463 registry)
    "7.16": "mesgtoobig",      # Message too big for the specified priority
    "7.17": "hasmoved",        # Mailbox owner has changed (RFC 7293)
    "7.18": "hasmoved",        # Domain owner has changed (RFC 7293)
    "7.20": "authfailure",     # No passing DKIM signature found (RFC 7372)
    "7.21": "authfailure",     # No acceptable DKIM signature found
    "7.22": "authfailure",     # No valid author-matched DKIM signature found
    "7.23": "authfailure",     # SPF validation failed
    "7.24": "authfailure",     # SPF validation error
    "7.25": "requireptr",      # Reverse DNS validation failed
    "7.26": "authfailure",     # Multiple authentication checks failed (Gmail: DMARC)
}

#: subject.detail -> reason, used only when the reply's words decide nothing.
HINT: dict[str, str] = {
    "0.0": "undefined",        # Other undefined status: the class is all there is
    "1.0": "userunknown",      # Other address status (mostly the recipient)
    "1.4": "userunknown",      # Destination mailbox address ambiguous
    "1.5": "delivered",        # Destination address valid
    "1.7": "rejected",         # Bad sender's mailbox address syntax
    "1.8": "rejected",         # Bad sender's system address
    "1.9": "systemerror",      # Message relayed to non-compliant mailer
    "2.0": "filtered",         # Other or undefined mailbox status
    "2.1": "suspend",          # Mailbox disabled, not accepting messages
    "2.4": "systemerror",      # Mailing list expansion problem
    "3.0": "systemerror",      # Other or undefined mail system status
    "3.2": "notaccept",        # System not accepting network messages
    "3.3": "systemerror",      # System not capable of selected features
    "3.5": "systemerror",      # System incorrectly configured
    "4.0": "networkerror",     # Other or undefined network or routing status
    "4.1": "networkerror",     # No answer from host
    "4.2": "networkerror",     # Bad connection
    "4.3": "systemerror",      # Directory server failure
    "4.4": "hostunknown",      # Unable to route
    "4.5": "toomanyconn",      # Mail system congestion
    "4.6": "networkerror",     # Routing loop detected
    "5.0": "syntaxerror",      # Other or undefined protocol status
    "5.1": "syntaxerror",      # Invalid command
    "5.2": "syntaxerror",      # Syntax error
    "5.4": "syntaxerror",      # Invalid command arguments
    "5.5": "systemerror",      # Wrong protocol version
    "5.6": "securityerror",    # Authentication exchange line too long (RFC 4954)
    "6.0": "contenterror",     # Other or undefined media error (also sent by spam filters)
    "7.0": "securityerror",    # Other or undefined security status
    "7.1": "blocked",          # Delivery not authorized, message refused
    "7.2": "filtered",         # Mailing list expansion prohibited
    "7.3": "securityerror",    # Security conversion required but not possible
    "7.4": "securityerror",    # Security features not supported
    "7.5": "securityerror",    # Cryptographic failure
    "7.6": "securityerror",    # Cryptographic algorithm not supported
    "7.7": "securityerror",    # Message integrity failure
    "7.8": "securityerror",    # Authentication credentials invalid
    "7.9": "securityerror",    # Authentication mechanism is too weak
    "7.10": "failedstarttls",  # Encryption needed
    "7.11": "securityerror",   # Encryption required for requested authentication mechanism
    "7.12": "securityerror",   # A password transition is needed
    "7.14": "securityerror",   # Trust relationship required
    "7.15": "securityerror",   # Priority level is too low
    "7.19": "securityerror",   # RRVS test cannot be completed
    "7.27": "rejected",        # Sender address has null MX (replies often say "host does not accept mail")
}


def split(status: str) -> tuple[str, str]:
    """`5.1.1` -> ("5", "1.1")."""
    klass, _, rest = status.partition(".")
    return klass, rest


def decisive(status: str | None) -> str | None:
    """The reason a code settles on its own, or None."""
    if not status:
        return None
    klass, rest = split(status)
    if klass == "2":
        return "delivered"
    return DECISIVE.get(rest)


def hint(status: str | None) -> str | None:
    """The reason a general code suggests when nothing better is known, or None."""
    if not status:
        return None
    return HINT.get(split(status)[1])
