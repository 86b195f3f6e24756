"""policyviolation: the message broke a content or usage policy of the receiving side."""

DESCRIPTION = "the message broke a policy of the receiving side"

PHRASES = (
    "policy violation",                      # various
    "potential security issue",              # Gmail 552 5.7.0 "content presents a potential security issue"
    "content presents a potential",          # the same Gmail reply cut after its first line
    "header error",                          # content filters' header checks: "554 5.7.0 Header error"
    "host network not allowed",              # Mimecast: the sending network is not allowed by its policy
    # Mimecast "550 Rejected by header-based Anti-Spoofing policy: a@b - https://community.mimecast.com/...",
    # "550 Anti-Spoofing policy - Inbound not allowed"
    "anti-spoofing policy",
    "content examination policy",            # Mimecast "550 Message bounced due to Content Examination Policy"
    "rejected due to local policy",          # iCloud "550 5.7.1 [CS01] Message rejected due to local policy"
    "prohibited by policy",                  # various
    "content policy",                        # various
    "email policy",                          # various
    "mail policy",                           # various
    "policy restrictions",                   # various
    "policy rejection",                      # various
    "refused by policy",                     # various
    "policy reasons",                        # various
    "not allowed by policy",                 # various
    "prohibited content",                    # various
    "administrative prohibition",            # Exim ACL default "Administrative prohibition"
    "message not allowed",                   # various
    "mass mailer",                           # "550 5.7.1 You're using a mass mailer, therefore you're bounced."
    # Gmail '552-5.7.0 Our system detected an illegal attachment on your message'
    "illegal attachment",
    # Google Groups 'exceeded the allowable number of posts without solving a captcha'
    "without solving a captcha",
    "closed mailing list",                   # list servers refusing non-members
    "protocol violation",                    # Exim/Postfix "550 Protocol violation" (pipelining, bare LF ...)
    "not subscribed to this group",          # Google Groups "... is not subscribed to this group"
    "anti-spoofing policy",                  # Mimecast "Rejected by header-based Anti-Spoofing policy"
    "content examination policy",            # Mimecast "Message bounced due to Content Examination Policy"
    "host network not allowed",              # Mimecast geographical restriction
    "x-dg-ref header is too long",           # Exchange 5.0.350 (rich text messages)
    "esmtp no data before greeting",         # Cox: the client spoke before the banner
    "attachment extension is forbidden",     # Cox: a forbidden attachment type
)

PATTERNS = (
    # amavisd-new's reply for a banned attachment (a file type or name the site forbids): "554 5.7.0 Reject,
    # id=12345-01 - BANNED: application/x-msdownload,.exe,.exe-ms,invoice.exe", or "250 2.7.0 Ok, discarded, ..."
    r"reject, id=(?<=\breject, id=)[^,]*? - banned\b",
    r"discarded, id=[^,]*? - banned\b",
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "violates",                              # "message violates our policy"
    "violation of",                          # various
    "local policy",                          # "rejected due to local policy"
    "by policy",                             # various
    "attachment",                            # blocked attachment types
    "file type",                             # various
    "executable",                            # various
)
