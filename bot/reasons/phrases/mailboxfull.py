"""mailboxfull: the recipient's mailbox is over its quota."""

DESCRIPTION = "the recipient's mailbox is full"

PHRASES = (
    "mailbox exceeded",                      # Biglobe "messages in recipient's mailbox exceeded the local limit"
    "mailbox full",                          # Sendmail, Exim appendfile
    "mailbox is full",                       # Exchange, Yahoo, many
    "mail box full",                         # various
    "mailbox has exceeded",                  # various
    "mailbox exceeds",                       # various
    "mailbox size limit exceeded",           # Exchange
    "mailbox quota",                         # Dovecot, Exim
    "mailfolder is full",                    # various
    "over quota",                            # Gmail/Yahoo/Exim "over quota"
    "overquota",                             # various
    "over the quota",                        # various
    "exceeded storage allocation",           # Sendmail/old Exchange
    "exceed storage allocation",             # various
    "disk quota exceeded",                   # local delivery
    "user has exceeded",                     # various
    "account is full",                       # various
    "account is over quota",                 # various
    "out of storage space",                  # Gmail "inbox is out of storage space"
    "inbox is full",                         # various
    "insufficient quota",                    # various
    "not enough storage space",              # various
    "would exceed",                          # "would exceed mailbox quota"
    "too much mail data",                    # qmail vpopmail
    "recipient's mailbox is full",           # various
    "user's mailbox is full",                # various
    "has exceeded the maximum mailbox size", # various
    "quota full",                            # various
    "mailbox over quota",                    # various
    "full mailbox",                          # various
    "boite du destinataire pleine",          # Orange / Wanadoo (French)
    "maildir over quota",                    # qmail/vpopmail
    "delivery failed: over quota",           # various
    "mailbox for user is full",              # Dovecot
    "storage quota",                         # various
    "does not have enough space",            # '552 Account(s) <x@y> does not have enough space'
    "quota violation",                       # 'Quota violation for <x@y>' (Novell GroupWise, appliances)
    "diskspace quota",                       # qmail maildir 'the user's maildir has overdrawn his diskspace quota'
    # web.de '550 Benutzer hat zuviele Mails auf dem Server. / User has too many messages on the server.'
    "too many messages on the server",
    "zuviele mails",                         # web.de/GMX German half of the same reply
    "account disabled temporarly for exceeding receiving limits",  # Yahoo/AOL (their spelling)
    "account is exceeding their quota",      # various
    "over disk quota",                       # "user is over disk quota"
    "reached disk quota",                    # "recipient reached disk quota"
    "over the allowed quota",                # "would be over the allowed quota"
    "mail file size exceeds the maximum size allowed for mail delivery",  # Postfix local mailbox_size_limit
    "the user's space has been used up",    # 163.com/NetEase
)

PATTERNS = (
    # "quota exceeded" (Postfix virtual, Dovecot "Quota exceeded (mailbox for user is full)"), "quota exceed"
    # (various) -- but not a sender's sending quota: Amazon SES "Daily message quota exceeded" (toomanyconn)
    r"quota exceed(?<!daily message quota exceed)",
    r"(?:mailbox|inbox|quota) .{0,20}\bfull\b",
)
