"""blocked: the sending IP (or the connecting host) is refused, by a block list or by the receiver's rules."""

DESCRIPTION = "the sending IP or host was refused"

PHRASES = (
    "blocked using",                         # Postfix reject_rbl_client "Client host [ip] blocked using zen..."
    "blocklisted",                           # various
    "blocklist",                             # various
    "block list",                            # various
    "black list",                            # various
    "dnsbl",                                 # various
    "rbl",                                   # "RBL restriction", "rejected by RBL"
    "spamhaus",                              # Spamhaus-based rejections
    "spamcop",                               # SpamCop-based rejections
    "barracudacentral",                      # Barracuda BRBL
    "sorbs",                                 # SORBS (dead, still quoted)
    "uceprotect",                            # UCEPROTECT
    "client host rejected",                  # Postfix check_client_access
    "helo command rejected",                 # Postfix HELO restrictions
    "banned sending ip",                     # Microsoft 5.7.606
    "ip address is blocked",                 # various
    "ip is blocked",                         # various
    "ip blocked",                            # various
    "ip has been blocked",                   # various
    "host is blocked",                       # various
    "connection refused by",                 # "connection refused by rbl"
    "connection rejected",                   # various
    "rejected because of your ip",           # various
    "dynamic ip",                            # various
    "dynamic address",                       # various
    "dial-up",                               # various
    "dialup",                                # various
    "not allowed to connect",                # various
    "refused to talk to me",                 # Postfix "host x refused to talk to me"
    "service unavailable; client host",      # Postfix
    "too many bad commands",                 # various
    "client host blocked",                   # Orange "Client host blocked for spamming issues"
    "invalid ip for sending",                # Yahoo "INVALID IP FOR SENDING MAIL OF DOMAIN"
    "not accepting connections",             # iCloud "554 ... ESMTP not accepting connections"
    "mail from ip",                          # various
    "smtp server of your isp",               # "Please use the smtp server of your ISP" (dynamic IP ranges)
    "my name was rejected",                  # qmail-send: the remote refused our HELO name
    "may not be mail exchanger",             # Postfix reject_unknown_client / MX-only access rules
    # '550 Your server requires confirmation. Visit http://.../Whitelist.aspx?IP=... to confirm this mail server.'
    "confirm this mail server",
    "cannot resolve your address",           # various (the client's name does not resolve)
    "no access from mail server",            # various
    "rejecting open proxy",                  # Sendmail srvrsmtp.c
    "your server requires confirmation",     # challenge pages for sending servers
    "your access to submit messages to this e-mail system has been rejected",  # Exchange
    # T-Online (mx*.t-online.de) refuses a sending IP with one fixed sentence and a tag: (BL) block list,
    # (DYN) dynamic address, (RLY:..) relay rules, all about the client IP: "554 IP=192.0.2.1 - A problem
    # occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.) (BL)"
    "a problem occurred. (ask your postmaster for help or to contact",
    # Outlook.com/Hotmail SC-004: "Unfortunately, messages from 192.0.2.1 weren't sent. ... too many unwanted
    # messages have been sent from the following IP address above" (the IP, whatever the SMTP stage)
    "unwanted messages have been sent from the following ip address",
    # Outlook.com/Hotmail DY-001, OU-002, SC-001: "Unfortunately, messages from 192.0.2.1 weren't sent. Please
    # contact your Internet service provider ..." -- every variant refuses the sending IP
    "weren't sent. please contact your internet service provider",
    "dynamically-assigned ip",               # Hotmail OU-002 "does not relay dynamically-assigned IP ranges"
    "access denied, rejected by recipient",  # Exchange Online 5.7.507: the recipient's organization blocks the IP
    "this ip has been temporarily blocked for attempting",  # GoDaddy IB110/IB112 (too much spam / invalid rcpts)
    "this ip has been blocked for the day",  # GoDaddy IB111/IB113
    "too many invalid recipients",           # Cox, others: the IP sent to too many unknown users and is blocked
    "too many bad commands from",            # Cox "Cox too many bad commands from 192.0.2.1"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "listed in",                             # Exim dnslists, Sendmail dnsbl (zones are found before)
    "listed on",                             # various
    "listed at",                             # various
    "your ip",                               # "your IP address is blocked"
    "blocked by",                            # various
    "residential",                           # various
    "access denied",                         # generic; Microsoft and appliances
    "ip address",                            # generic; last
    "has been blocked",                      # various
    "is blocked",                            # various
    "blocked",                               # generic; last
)

PATTERNS = (
    # "blacklisted", "blacklist" (various) -- but not cPanel Exim's catch-all for a domain it cannot route to:
    # "The account or domain may not exist, they may be blacklisted, or missing the proper dns entries."
    r"blacklist(?<!they may be blacklist)",
    # Gmail 'Could not initiate SMTP conversation with any hosts: [host (1): Connection dropped]', 'Connection was
    # dropped by remote host (SENT_HELO)': the remote hung up on us
    r"connection(?<=\bconnection) (?:was )?dropped\b",
    r"(?:blocked|refused) - see https?://",  # Comcast/Cox-style "554 ... refused - see http://..."
    r"mail from \d+\.\d+\.\d+\.\d+ refused",  # various "Mail from 192.0.2.1 refused"
    r"server ip \S+ listed as abusive",     # various
)
