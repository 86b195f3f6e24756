"""contenterror: the message content or encoding could not be handled."""

DESCRIPTION = "the message content or encoding was refused"

PHRASES = (
    "improper use of 8-bit data",            # Sendmail
    "8-bit data",                            # various
    "header too long",                       # various
    "line too long",                         # various
    "invalid content",                       # various
    "bad content",                           # various
    "content rejected",                      # various
    "illegal characters",                    # various
    "improperly-formatted binary content",   # Gmail "this message contains improperly-formatted binary content"
    "barelinefeedsareillegal",               # Exchange 5.6.11 "SMTPSEND.BareLinefeedsAreIllegal"
    "message contains bare linefeeds",       # Exchange 5.6.11
    "agent generated message depth exceeded",  # Exchange 5.4.11
    "conversion to internet format failed",  # Exchange 5.5/2003 "(00050311) Conversion to Internet format failed"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "8bit",                                  # various
    "message content",                       # various
    "message header",                        # various
    "encoding",                              # various
)
#: Generic words that must stand alone: "MIME" is not the "mime" of mimecast.com in a Mimecast reply's link.
WEAK_PATTERNS = (
    r"\bmime\b",                             # "invalid MIME structure", "MIME-Version missing"
)
