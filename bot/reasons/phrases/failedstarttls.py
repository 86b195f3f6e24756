"""failedstarttls: STARTTLS was required or attempted and failed."""

DESCRIPTION = "STARTTLS was required and could not be completed"

PHRASES = (
    "starttls",                              # "Must issue a STARTTLS command first", "STARTTLS failed"
    "tls required",                          # various
    "does not support tls",                  # Gmail "500 Remote server does not support TLS"
    "tls negotiation failed",                # various
    "tls handshake",                         # various
    "ssl handshake",                         # various
    "tls is required",                       # various
    "failed to establish tls",               # various
)
