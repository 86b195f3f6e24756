"""mailererror: the local delivery program (pipe, procmail, mail.local) failed."""

DESCRIPTION = "the local delivery program failed"

PHRASES = (
    "mailer error",                          # Sendmail
    "mail delivery via pipe failed",         # Postfix pipe
    "procmail",                              # procmail errors
    "command died",                          # various
    "command output",                        # Postfix "Command output: ..."
    "exit status",                           # various
    "x-unix",                                # DSN Diagnostic-Code type for local delivery
    "mail.local",                            # Sendmail/BSD local delivery
    "unknown mailer error",                  # Sendmail "unknown mailer error 1"
    "pipe to",                               # Exim "pipe to |... returned"
    "child process",                         # various
)
