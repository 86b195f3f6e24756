"""expired: the sending side gave up after the message stayed in its queue too long."""

DESCRIPTION = "delivery was retried until the queue lifetime ran out"

PHRASES = (
    "retry time exceeded",                   # Exim "retry time not reached for any host after a long failure period"
    "retry timeout exceeded",                # Exim
    "delivery time expired",                 # RFC 3463 4.4.7 wording
    "message expired",                       # various
    "message has been in the queue too long",  # Exchange/Sendmail
    "queue too long",                        # various
    "was not delivered within",              # various
    "could not be delivered within",         # various
    "delivery period",                       # various
    "retry limit",                           # various
    "max retries",                           # various
    "maximum time",                          # various
    "queue lifetime",                        # various
    "too long in queue",                     # various
    "time limit exceeded",                   # various
    "could not be delivered for",            # "could not be delivered for 5 days"
    "message timed out",                     # various
    "expired after",                         # various
    "delivery expired",                      # various
    "undeliverable for",                     # various
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "has expired",                           # various
    "giving up",                             # various
    "gave up",                               # various
)
