"""toomanyconn: too many connections or too many recipients at once."""

DESCRIPTION = "too many connections or recipients at once"

PHRASES = (
    "connection rate limit",                 # Postfix anvil "452 4.3.2 Connection rate limit exceeded"
    "frequency limited",                     # QQ/Tencent "Ip frequency limited", "Connection frequency limited"
    "too many connections",                  # various
    "too many simultaneous connections",     # various
    "too many concurrent",                   # various
    "too many recipients",                   # Postfix "Error: too many recipients"
    "connection limit",                      # various
    "too many smtp sessions",                # various
    "maximum number of connections",         # various
    "too many sessions",                     # various
    "recipient limit",                       # various
    "too many hosts",                        # various
)
