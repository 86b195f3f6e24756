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

PATTERNS = (
    # amavisd-new's reply for a virus it found: "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Signature" (older
    # versions "- VIRUS: ..."), and the same when it discards: "250 2.7.0 Ok, discarded, id=12345-01 - INFECTED: ..."
    r"reject, id=(?<=\breject, id=)[^,]*? - (?:infected|virus)\b",
    r"discarded, id=[^,]*? - (?:infected|virus)\b",
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "infected",                              # Amavis "message contains INFECTED"
)
