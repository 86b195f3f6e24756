"""notcompliantrfc: the message is not compliant with RFC 5322 (headers, From:, duplicates)."""

DESCRIPTION = "the message breaks the message format standard (RFC 5322)"

PHRASES = (
    "rfc 5322",                              # Gmail "not RFC 5322 compliant"
    "rfc5322",                               # various
    "rfc 2822",                              # various
    "rfc2822",                               # various
    "rfc 822",                               # various
    "rfc822 compliant",                      # various
    "duplicate header",                      # various
    "multiple from",                         # Gmail "multiple From: headers"
    "messages with multiple addresses",      # Gmail 550-5.7.1 (the reply cut after its first line)
    "addresses in from: header",             # Gmail "Messages with multiple addresses in From: header"
    "missing a valid address in from",       # Gmail
    "missing required header",               # various
    "is not rfc compliant",                  # various
    "not rfc compliant",                     # various
    "headers are not",                       # various
    "message is not compliant",              # various
    "header is not",                         # various
    "bare lf",                               # various: "bare LF" line endings refused
    "blank from: addresses are not allowed",  # GoDaddy IB501
    "ip addresses are not allowed as a from: address",  # GoDaddy IB502
)
