"""norelaying: the receiving server refuses to relay for the recipient's domain."""

DESCRIPTION = "the receiving server does not relay for that domain"

PHRASES = (
    "email address is not verified",         # Amazon SES will not send for an unverified identity
    "no relaying",                           # various "No relaying allowed"
    "relay access denied",                   # Postfix "Relay access denied"
    "relaying denied",                       # Sendmail "Relaying denied"
    "relay denied",                          # various
    "relay not permitted",                   # Exim "relay not permitted"
    "relaying not permitted",                # various
    "relaying not allowed",                  # various
    "relay not allowed",                     # various
    "not permitted to relay",                # various
    "unable to relay",                       # Exchange "Unable to relay"
    "we do not relay",                       # various
    "no relaying allowed",                   # various
    "relay prohibited",                      # various
    "relaying prohibited",                   # various
    "relaying mail to",                      # "relaying mail to x is not allowed"
    "not configured to relay",               # various
    "cannot relay",                          # various
    "can't relay",                           # various
    "5.7.64 tenantattribution; relay access denied",  # Office 365 connector
    "is not a gateway",                      # various
    "not local host",                        # various
    "allowed rcpthosts",                     # qmail-smtpd "sorry, that domain isn't in my list of allowed rcpthosts"
    "as a relay",                            # qmail "you are trying to use me ... as a relay"
    "insecure mail relay",                   # various
    "not allowed to relay through this machine",  # various
    "not an open relay, so get lost",        # various
    "in my list of allowed rcpthost",        # qmail rcpthosts
    "requires authentication when attempting to send to a non-local e-mail address",  # MailEnable
    "due to the following smtp relay error",  # au by KDDI
)

PATTERNS = (
    r"use me\b(?<=\buse me).{0,80}\bas a relay\b",      # MessageLabs '553-you are trying to use me [server] as a relay'
)
