"""authfailure: SPF, DKIM or DMARC checks of the sender domain failed at the receiving side."""

DESCRIPTION = "the sender domain failed SPF, DKIM or DMARC"

PHRASES = (
    "dmarc",                                 # Gmail 5.7.26 "domain's DMARC policy", Yahoo, Microsoft
    "spf check",                             # various "SPF check failed"
    "spf validation",                        # RFC 7372 wording
    "spf record",                            # various
    "spf fail",                              # various
    "sender policy framework",               # various
    "not a permitted sender",                # "... is not designated as a permitted sender"
    "not designated as permitted sender",    # various
    "is not allowed to send mail from",      # policyd-spf (Postfix)
    "dkim",                                  # "DKIM signature", "no passing DKIM signature"
    "does not have authentication information",  # Gmail 550-5.7.1 (bulk sender requirements)
    "fails to pass authentication",          # Gmail
    "unauthenticated email",                 # Gmail "Unauthenticated email from x is not accepted"
    "message does not pass authentication",  # Gmail 5.7.26
    "does not meet the required authentication level",  # Gmail
    "authentication checks failed",          # RFC 7372
    "sender is not authenticated",           # various
    "domain authentication",                 # various
    "please see http://www.openspf.org",     # old SPF milters
    "openspf",                               # old SPF milters
    "spf sender invalid",                    # Mimecast "550 SPF Sender Invalid - envelope rejected"
    "dkim sender invalid",                   # Mimecast
    "dmarc sender invalid",                  # Mimecast
    "by spf policy",                         # "550 5.7.1 Sender rejected by SPF policy" (before "sender rejected")
    "spf policy",                            # "rejected due to SPF policy", "SPF policy violation"
    "spf authentication",                    # "SPF authentication failure" (not SMTP AUTH's)
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "spf: ",                                 # Exim/postfix-policyd-spf "SPF: ... is not allowed to send mail"
)
