"""hostunknown: the recipient's domain does not exist or has no mail host."""

DESCRIPTION = "the recipient domain does not exist or cannot receive mail"

PHRASES = (
    "unrouteable address",                   # Exim: no router could route the domain
    "domain is not reachable",               # Outlook.com "because the domain is not reachable"
    "host or domain name not found",         # Postfix "Host or domain name not found. Name service error"
    "host unknown",                          # Sendmail "Host unknown (Name server: ...: host not found)"
    "unknown host",                          # various
    "domain not found",                      # Postfix "Recipient address rejected: Domain not found"
    "domain does not exist",                 # hosted filters
    "no such domain",                        # various
    "unknown domain",                        # various
    "domain unknown",                        # various
    "domain is not hosted",                  # hosting providers
    "couldn't find any host named",          # qmail "Sorry, I couldn't find any host named ..."
    "couldn't find any host by that name",   # qmail
    "name or service not known",             # resolver errors quoted by MTAs
    "recipient domain must exist",           # various
    "no mail hosts for domain",              # Sendmail
    "mx lookup failure",                     # various
    "invalid domain",                        # various
    "domain name not found",                 # various
    "illegal host/domain name found",        # Sendmail V5
    "dns error: domain name not found",      # Gmail DNS failure bounce
    "address domain not found",              # various
    # cPanel's Exim, when no router can route the domain: "The mail server could not deliver mail to x@y.
    # The account or domain may not exist, they may be blacklisted, or missing the proper dns entries."
    "the account or domain may not exist",
    "all host address lookups failed permanently",  # Exim transports/smtp.c
    "all relevant mx records point to non-existent hosts",  # Exim routers/dnslookup.c
    "remote domain doesnt exist",            # au by KDDI "As the remote domain doesnt exist."
)

PATTERNS = (
    r"(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,} does not exist",  # "553 example.com does not exist"
    r"host [^ ]+ not found",                 # "host example.com not found"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    # Sendmail 551 'not our customer': a 551 is 'user not local' (hasmoved) as often
    "not our customer",
)
