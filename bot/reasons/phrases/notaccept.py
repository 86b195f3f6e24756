"""notaccept: the receiving domain does not accept mail at all (null MX, no SMTP)."""

DESCRIPTION = "the recipient domain does not accept mail"

PHRASES = (
    "does not accept mail",                  # RFC 7505 null MX
    "null mx",                               # RFC 7505
    "no mx found",                           # OpenSMTPD "No MX found for domain"
    "couldn't find a mail exchanger",        # qmail-remote "Sorry, I couldn't find a mail exchanger or IP address"
    "indicated no smtp service",             # Exim "an MX or SRV record indicated no SMTP service"
    "not accepting network messages",        # RFC 3463 5.3.2 wording
    "does not receive mail",                 # various
    "mail is not accepted",                  # various
    "no host found for existing smtp connection",  # Exim transports/smtp.c
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "no mx",                                 # various
)
