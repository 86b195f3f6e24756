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
    "aliasing/forwarding loop broken",       # Sendmail
    "can't create user output file",        # Sendmail mail.local
    "could not load drd for domain",         # a hosted MTA's routing lookup "451 Could not load DRD for domain"
    "interrupted system call",               # local delivery agents
    "it encountered an error while being processed",  # Exchange Online
    "loop was found in the mail exchanger",  # Sendmail "MX list ... loops back"
    "queue file write error",                # Postfix "451 4.3.0 Error: queue file write error"
    "recipient deferred because there is no mdb",  # Exchange "no Mailbox Database"
    "remote server is misconfigured",        # various
    "system config error",                   # RFC 3463 5.3.5 wording
    "delivery to file forbidden",            # Exim deliver.c (an alias to a file the router may not write)
    "delivery to pipe forbidden",            # Exim deliver.c
    "local delivery failed",                 # Exim transports/pipe.c
    "several matches found in domino directory",  # Domino: an ambiguous recipient name
    "unable to process connection at this time",  # Mimecast: server under maximum load
    "esmtp server temporarily not available",  # Cox
    # Exchange categorizer NDR codes: the recipient's directory entry is broken, not the address
    "resolver.adr.badprimary",               # 5.2.0 recipient primary SMTP address is missing
    "resolver.adr.invalidinsmtp",            # 5.1.0 address invalid in SMTP
    "resolver.adr.ambiguous",                # 5.1.4 ambiguous address
    "resolver.fwd.notfound",                 # 5.4.1 forwarding address not found
    "no proxy for recipient",                # Exchange 5.5/2003 "(000D06B5) No proxy for recipient (non-smtp mail?)"
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
