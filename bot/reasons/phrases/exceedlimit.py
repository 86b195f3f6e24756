"""exceedlimit: a per-recipient limit (message length set for that mailbox) was exceeded."""

DESCRIPTION = "the message exceeds a limit the recipient's mailbox has"

PHRASES = (
    "message length exceeds administrative limit",  # RFC 3463 5.2.3 wording (Sendmail)
    "exceeds recipient's size limit",        # various
    "exceeds per-user",                      # "exceeds per-user size limit"
    "exceeded the limit of recipient",       # various
)
