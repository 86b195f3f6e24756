"""suspend: the recipient's mailbox exists but is disabled, suspended or inactive."""

DESCRIPTION = "the recipient's mailbox is disabled or suspended"

PHRASES = (
    "account disabled",                      # various
    "account has been disabled",             # Yahoo, hosting providers
    "account is disabled",                   # various
    "mailbox disabled",                      # RFC 3463 5.2.1 wording, Exchange
    "mailbox is disabled",                   # various
    "account that you tried to reach is disabled",  # Gmail 5.2.1
    "account is inactive",                   # various
    "account inactive",                      # various
    "inactive account",                      # various
    "mailbox is inactive",                   # various
    "mailbox inactive",                      # various
    "has been suspended",                    # various
    "account suspended",                     # various
    "account is suspended",                  # various
    "mailbox suspended",                     # various
    "account has been frozen",               # various
    "account is frozen",                     # various
    "mailbox is frozen",                     # various
    "account deactivated",                   # various
    "has been deactivated",                  # various
    "account expired",                       # various
    "account has expired",                   # various
    "user suspended",                        # various
    "disabled mailbox",                      # various
    "mailbox currently suspended",           # various
    "recipient suspended",                   # various
    "boite du destinataire archivee",        # Orange / Wanadoo "boite du destinataire archivee"
    "this account has been disabled or discontinued",  # Yahoo
    "account locked",                        # various
    "recipient account is blocked",          # La Poste "The recipient account is blocked"
    "compte du destinataire est bloque",     # La Poste (French)
    "account is locked",                     # vpopmail vdelivermail "account is locked email bounced"
    "temporary locked",                      # "User x temporary locked. Please try again later"
    "temporarily locked",                    # various
    "mailbox locked",                        # various
    "deactivated mailbox",                   # '551 <x@y> is a deactivated mailbox'
    # mailbox hosts returning mail that was 'not been collected after 30 days': an abandoned mailbox
    "not been collected after",
    "invalid/inactive user",                 # QQ Mail "550 Mailbox not found or access denied: invalid/inactive user"
    "mailbox unavailable or access denied",  # QQ Mail
    "recipient suspend the service",         # 163.com/NetEase
    "mailbox temporarily disabled",          # Postfix access maps, hosting providers
)

PATTERNS = (
    # "is not an active mailbox" (various); FreeUK's "is not an active address at this host" is userunknown
    r"not an active(?! address at this host)",
    r"delivery error: dd \S+ is no longer valid",  # Yahoo "554 delivery error: dd x@yahoo.com is no longer valid."
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "is suspended",                          # various
    "temporarily disabled",                  # various
)
