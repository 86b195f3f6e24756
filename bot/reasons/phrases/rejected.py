"""rejected: the envelope sender (or its domain) was refused."""

DESCRIPTION = "the sender address or its domain was refused"

PHRASES = (
    "sender address rejected",               # Postfix check_sender_access, reject_unknown_sender_domain
    "sender rejected",                       # various
    "'send mail as'",                        # Google Workspace: the 'Send mail as' alias of the sender is misconfigured
    "provide a valid from",                  # GoDaddy "From: Domain is invalid. Please provide a valid From:"
    "purported responsible address",         # Sender ID (RFC 4407) checks the PRA: the sender
    "address that has been blacklisted",     # "you are sending to/from an address that has been blacklisted"
    "sender was rejected",                   # qmail-send "Connected to x but sender was rejected"
    "sender denied",                         # various
    "sender blocked",                        # various
    "sender is not allowed",                 # various
    "sender not allowed",                    # various
    "sender verify failed",                  # Exim sender verification
    "sender verification",                   # various
    "could not verify sender",               # various
    "unverified sender",                     # various
    "invalid sender",                        # various
    "bad sender",                            # various
    "domain of sender address",              # Sendmail "Domain of sender address x does not exist"
    "mail from this domain is not accepted", # Postfix access maps ("... is not accepted here")
    "from address rejected",                 # various
    "mail from rejected",                    # various
    "null sender",                           # various
    "empty envelope sender",                 # various
    "your envelope sender",                  # various
    # Mimecast's blocked-senders policies: "550 Envelope blocked - User Entry", "... - User Domain Entry",
    # "550 Rejected by header based Blocked Senders - Block policy for Header From", "550 Envelope rejected -
    # Block policy for Envelope From address"
    "envelope blocked - user",
    "blocked senders - block policy",
    "block policy for envelope from",
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "sender domain",                         # "sender domain must exist", "sender domain not accepted"
    "return path",                           # various
)
