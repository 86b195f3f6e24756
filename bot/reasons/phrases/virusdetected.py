"""virusdetected: a virus scanner refused the message."""

DESCRIPTION = "a virus or malware was found in the message"

PHRASES = (
    "virus",                                 # ClamAV, Amavis "INFECTED", Exchange, Gmail "potential security issue"
    "malware",                               # various
    "trojan",                                # various
    "worm detected",                         # various
    "contains a security risk",              # various
    "security threat",                       # various
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "infected",                              # Amavis "message contains INFECTED"
)
