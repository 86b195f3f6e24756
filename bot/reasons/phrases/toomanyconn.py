"""toomanyconn: too many connections or too many recipients at once."""

DESCRIPTION = "too many connections or recipients at once"

PHRASES = (
    "connection rate limit",                 # Postfix anvil "452 4.3.2 Connection rate limit exceeded"
    "frequency limited",                     # QQ/Tencent "Ip frequency limited", "Connection frequency limited"
    "too many connections",                  # various
    "too many simultaneous connections",     # various
    "too many concurrent",                   # various
    "connection limit",                      # various
    "too many smtp sessions",                # various
    "maximum number of connections",         # various
    "too many sessions",                     # various
    "recipient limit",                       # various
    "too many hosts",                        # various
    "has exceeded the max emails per hour",  # cPanel "Domain x has exceeded the max emails per hour"
    "trop de connexions",                    # Orange/Free (French) "421 Trop de connexions"
    "throttling failure",                    # Amazon SES "Throttling failure: Maximum sending rate exceeded"
    "max message per connection reached",    # Yahoo "421 Max message per connection reached"
    "account service is temporarily unavailable",  # Mimecast: too many concurrent connections
    "exceeding outbound thread limit",       # Mimecast
    "message threshold exceeded",            # Cox: 100 messages per connection
)

PATTERNS = (
    # Postfix "452 4.5.3 Error: too many recipients"; "... too many recipients this hour" is a rate (speeding)
    r"too many recipients(?! (?:this|per|an?|each|in the last) (?:hour|minute|day|second))",
)
