"""expired: the sending side gave up after the message stayed in its queue too long."""

DESCRIPTION = "delivery was retried until the queue lifetime ran out"

PHRASES = (
    "was aborted after",                     # "Delivery to the following recipients was aborted after 5.0 hour(s)"
    "will be retried for",                   # Gmail delay notice "Message will be retried for 2 more day(s)"
    "did not accept our requests to connect",  # Gmail gave up: "The recipient server did not accept our requests"
    "have been failing for a long time",     # Exim "all hosts have been failing for a long time"
    "envelope expired",                      # OpenSMTPD
    "still undelivered after",               # Sendmail "Warning: message still undelivered after 4 hours"
    "could not be delivered for",            # Sendmail "Message could not be delivered for 5 days"
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
    "message timed out",                     # various
    "expired after",                         # various
    "delivery expired",                      # various
    "undeliverable for",                     # various
    "could not find a gateway for",          # Lotus Domino gave up routing
    "retry time not reached for any host after a long failure period",  # Exim
    "was not reachable within the allowed queue period",  # various
)

PATTERNS = (
    # Exim "Message 1Xabcd-0001Ab-Cd has been frozen (by the system filter)", "... was frozen on arrival by ACL"
    # (an account "has been frozen" is another matter)
    r"message \S+ (?:has been|was) frozen",
    r"delivery failed \d+ attempts",         # IMail Server "Delivery failed 20 attempts"
    # Exim delay warning 'has not yet been delivered to one or more of its recipients after more than 48 hours on the
    # queue'
    r"has not yet been delivered .{0,80}\bhours on the queue\b",
    r"failed to deliver to domain \S+ after \d+ tries",  # MailEnable-style "... after 5 tries"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "has expired",                           # various
    "giving up",                             # various
    "gave up",                               # various
)
