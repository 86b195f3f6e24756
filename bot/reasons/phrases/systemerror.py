"""systemerror: the receiving (or relaying) system failed internally."""

DESCRIPTION = "the receiving system had an internal error"

PHRASES = (
    "system error",                          # various
    "transaction failed",                    # "554 Transaction failed" (RFC 5321 554 wording)
    "ldap server",                           # qmail-ldap "Unable to contact LDAP server"
    "internal error",                        # various
    "local error",                           # various
    "temporary local problem",               # Exim "Temporary local problem - please try later"
    "local problem",                         # various
    "server error",                          # various
    "unexpected error",                      # various
    "system failure",                        # various
    "server configuration",                  # various
    "configuration error",                   # various
    "loops back to myself",                  # Postfix "mail for x loops back to myself"
    "processing error",                      # various
    "error in processing",                   # various
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "currently unavailable",                 # "554 Service currently unavailable"
    "temporarily unavailable",               # various
    "service unavailable",                   # generic; last
    "try again later",                       # various
    "unable to deliver",                     # various
)

PATTERNS = (
    # Lotus Domino 'Recipient user name info (x@y) not unique. Several matches found in Domino Directory.'
    r"not unique\. several matches found",
)
