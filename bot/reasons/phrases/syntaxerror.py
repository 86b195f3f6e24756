"""syntaxerror: the receiver did not understand an SMTP command."""

DESCRIPTION = "an SMTP command was not understood"

PHRASES = (
    "syntax error",                          # RFC 5321 500/501 replies
    "command unrecognized",                  # various
    "unrecognized command",                  # various
    "command not recognized",                # various
    "bad sequence of commands",              # RFC 5321 503
    "command not implemented",               # RFC 5321 502
    "parameter not implemented",             # RFC 5321 504 "Command parameter not implemented"
    "malformed address",                     # Exim "malformed address: x may not follow y"
    "angle-brackets nested too deep",        # Exim parser.c (a malformed recipient address)
    'expected word or "<"',                 # Exim parser.c
    "domain missing in source-routed address",  # Exim parser.c
)
