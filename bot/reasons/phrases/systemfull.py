"""systemfull: the receiving mail system is out of storage."""

DESCRIPTION = "the receiving mail system is out of storage"

PHRASES = (
    "mail system full",                      # RFC 3463 4.3.1 wording
    "insufficient system storage",           # Sendmail 452
    "insufficient disk space",               # various
    "no space left on device",               # local delivery
    "disk full",                             # various
    "not enough space on the disk",          # various
    "system storage",                        # various
    "not enough free space",                 # qmail/IIS "mailbox unavailable (not enough free space)"
)
