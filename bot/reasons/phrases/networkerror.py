"""networkerror: a connection or DNS problem on the way to the receiving server."""

DESCRIPTION = "a network or DNS problem prevented delivery"

PHRASES = (
    "connection timed out",                  # Postfix/Exim
    "network error",                         # OpenSMTPD "Network error on destination MXs"
    "wasn't able to establish an smtp connection",  # qmail-remote
    "host name lookup failure",              # Sendmail "Name server: x: host name lookup failure"
    "connection refused",                    # Postfix "connect to x: Connection refused"
    "network is unreachable",                # Postfix
    "no route to host",                      # Postfix
    "lost connection",                       # Postfix "lost connection with x while ..."
    "connection reset",                      # various
    "could not connect",                     # various
    "unable to connect",                     # various
    "can't connect",                         # various
    "name service error",                    # Postfix "Name service error for name=..."
    "temporary failure in name resolution",  # resolver
    "malformed or unexpected name server reply",  # Postfix
    "dns error",                             # various
    "dns lookup",                            # various
    "host not found, try again",             # Postfix
    "too many hops",                         # routing loop
    "routing loop",                          # various
    "mail loop",                             # various
    "loop detected",                         # various
    "hop count exceeded",                    # various
    # Exim 'unrouteable mail domain "example.com"': no route to the domain's hosts (lookup or routing failed)
    "unrouteable mail domain",
    "dns records for the destination computer could not be found",  # Exchange
    "host is unreachable",                   # various
    "mail forwarding loop for",              # Postfix "mail forwarding loop for someone@example.net"
    "malformed name server reply",           # Postfix
    "maximum forwarding loop count exceeded",  # various
    "message looping",                       # various
    "unable to resolve route",               # Exchange
    "smtpsend.dns.mxloopback",               # Exchange 5.4.4 "SMTPSEND.DNS.MxLoopback": the MX points back at us
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "connection closed",                     # various
    "timed out",                             # various
    "timeout",                               # various
)
