"""filtered: the recipient (or its mail filter) refuses this sender or this mail."""

DESCRIPTION = "the recipient's filter refused the mail"

PHRASES = (
    "refused by recipient",                  # various
    "recipient preferences",                 # Facebook "Refused due to recipient preferences"
    "rejected by recipient",                 # various
    "recipient has blocked",                 # various
    "user refuses",                          # various
    "refuses to accept",                     # various
    "does not accept mail from",             # various
    "is not accepting mail from",            # various
    "blocked by the recipient",              # various
    "blocked by recipient",                  # various
    "not authorized to send",                # various: mailing list or recipient allow lists
    "not authorized to receive",             # various
    "mailbox is restricted",                 # various
    "due to extended inactivity",            # various
    "user reject",                           # various
    "not allowed to receive",                # various
    "account is protected by",               # challenge-response services ("this account is protected by ...")
    "has restricted sms e-mail",             # AT&T text gateways
    "is not accepting any mail",             # various
    "message rejected due to user rules",    # various mailbox rules
    "not found recipient account",           # various
    "recipient id refuse to receive mail",   # Willcom (JP) domain filter
    "recipient is only accepting mail from specific email addresses",  # AOL allow lists
    "cannot route mail to user",             # Domino: the recipient's routing rules refuse it
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "filtered",                              # various
    "message filtered",                      # Amazon SES inbound "550 5.2.0 Message Filtered"
    "restricted to",                         # "delivery restricted to members"
    "not accepting mail",                    # various
)
