"""hasmoved: the recipient was valid once and has moved away without forwarding."""

DESCRIPTION = "the recipient has moved to another address"

PHRASES = (
    "has moved",                             # "user has moved", "mailbox has moved"
    "address changed",                       # various
    "user moved",                            # various
    "no longer at this address",             # various
    "is no longer with",                     # "is no longer with the company"
    "mailbox owner has changed",             # RFC 7293
    "domain owner has changed",              # RFC 7293
    "user not local; please try",            # RFC 5321 551 reply
    " has been replaced by ",                # "address someone@example.jp has been replaced by other@example.jp"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "new address",                           # Sendmail 551 "User not local; please try <new address>"
)
