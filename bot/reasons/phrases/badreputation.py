"""badreputation: the sending IP or domain has a poor reputation with the receiving side."""

DESCRIPTION = "the sending IP or domain has a poor reputation"

PHRASES = (
    "low reputation",                        # Gmail 5.7.1 "very low reputation of the sending IP address"
    "poor reputation",                       # various
    "bad reputation",                        # various
    "reputation of the sending",             # Gmail
    "sender reputation",                     # various
    "ip reputation",                         # various
    "domain reputation",                     # various
    "poor email reputation",                 # various
    "internal resources are temporarily unavailable",  # Mimecast 451: greylisting or a poor IP reputation
    "internal resource temporarily unavailable",  # Mimecast (older wording of the same 451)
    "local ct ip reputation",                # Mimecast "550 Local CT IP Reputation - (reject)"
)
