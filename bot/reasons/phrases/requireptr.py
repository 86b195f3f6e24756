"""requireptr: the sending IP has no (or no matching) reverse DNS name."""

DESCRIPTION = "the sending IP has no valid reverse DNS (PTR) record"

PHRASES = (
    "cannot find your hostname",             # Postfix reject_unknown_client_hostname
    "cannot find your reverse hostname",     # Postfix reject_unknown_reverse_client_hostname
    "reverse dns",                           # various
    "reverse lookup",                        # various
    "reverse hostname",                      # various
    "reverse mapping",                       # Sendmail "reverse mapping checking getaddrinfo"
    "ptr record",                            # Gmail 5.7.25 "does not have a PTR record"
    "no ptr",                                # various
    "ptr lookup",                            # various
    "rdns",                                  # various
    "no reverse",                            # various
    "ip name lookup failed",                 # Domino, McAfee
    "ip name lookup",                        # various
    "unresolvable relay host name",          # various
    "client host rejected: cannot find your",  # Postfix
    "unable to resolve your hostname",       # various
    "reverse dns of",                        # various
    "no dns ptr",                            # various
    "dns reverse",                           # various
    "pointer record",                        # various
    "hostname inconsistent with ip",         # various
    "ptr resource record",                   # "bad DNS PTR resource record" (various hosted filters)
    "ptr-record",                            # "... hosts with dynamic IP or generic DNS PTR-records"
    "mismatches client ip",                  # Outlook.com "550 domain [x] mismatches client ip"
)

PATTERNS = (
    # A provider that counts the sending IPs it cannot verify by reverse DNS per sender domain (Exim's log of
    # it: "450 service permits 2 unverifyable sending IPs - example.com is not 192.0.2.1")
    r"service permits \d+ unverif[iy]able sending ips",
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "does not resolve",                      # various
    "unknown client",                        # some access rules
)
