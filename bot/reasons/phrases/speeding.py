"""speeding: the sender went over a rate limit of the receiving side."""

DESCRIPTION = "the sender exceeded the receiver's rate limit"

PHRASES = (
    "recipients this hour",                  # GoDaddy "has sent to too many recipients this hour"
    "rate limit",                            # "rate limit exceeded"
    "rate exceeded",                         # various
    "ratelimit",                             # various
    "sending rate",                          # various
    "unusual rate",                          # Gmail 4.7.28 "unusual rate of unsolicited mail"
    "receiving mail at a rate",              # Gmail 4.2.1 "... is receiving mail at a rate"
    "receiving mail too quickly",            # Gmail 450 4.2.1 "The user ... is receiving mail too quickly", Yahoo
    "due to excessive volume",               # iCloud 421 4.7.1 "Messages to x deferred due to excessive volume"
    "too many messages",                     # various
    "throttl",                               # "throttled", "throttling"
    "slow down",                             # various
    "temporarily deferred due to unexpected volume",  # Yahoo TS01
    "exceeded the rate",                     # various
    "is receiving mail too quickly",         # Yahoo "450 User is receiving mail too quickly"
    "deferred due to excessive volume",      # iCloud "421 4.7.1 Messages to x deferred due to excessive volume"
    "exceeded the max number of messages per session",  # GoDaddy IB510
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "rate of",                               # various
)
