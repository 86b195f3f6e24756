"""mesgtoobig: the message is larger than the receiving system accepts."""

DESCRIPTION = "the message is too big for the receiving system"

PHRASES = (
    "message size exceeds",                  # Postfix "Message size exceeds fixed limit", Exchange
    "message too big",                       # Sendmail, Exim
    "message too large",                     # various
    "message is too large",                  # various
    "message is too big",                    # various
    "message exceeds maximum",               # various
    "exceeds maximum message size",          # various
    "exceeds fixed maximum message size",    # Sendmail, Exchange
    "email is too large",                    # various
    "mail size limit exceeded",              # various
    "message length exceeds",                # various
    "message file too big",                  # various
    "exceeded maximum allowed size",         # various
    "message exceeded maximum size",         # various
    "too big for system",                    # RFC 3463 5.3.4 wording
    "larger than the maximum",               # various
    "message size limit",                    # various
    "exceeds size limit",                    # various
    "the message is larger than",            # Gmail "size of your message ... exceeded Google's message size limits"
    "exceeded google's message size limits", # Gmail
    "exceeded maximum inbound message size",  # Exchange Online/hosted "553 Exceeded maximum inbound message size"
    "exceeded the maximum incoming message size",  # various hosted filters
    "taille limite du message atteinte",     # Orange/Wanadoo (French) "552 ... Taille limite du message atteinte"
    # "500 Line limit exceeded": a line (or the header block) beyond what the server reads; Sisimai counts it
    # as a size limit, and a runbook answers it the same way (the message must be re-encoded or cut)
    "line limit exceeded",
    "max message size exceeded",             # '550 RCPT TO:<x@y> max message size exceeded'
    "maximum email size exceeded",           # Mimecast "554 Maximum email size exceeded"
    "exceeded mailsize limit",               # NetEase 163.com "552 ... aborted: exceeded mailsize limit"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "message size",                          # generic; kept last
)

PATTERNS = (
    # Trend Micro IMSS '554 5.7.1 Message Rejected Class=size limit=15728640'
    r"class=size\b(?<=\bclass=size)",
    # "size exceeds the maximum", "exceeds the maximum size" (various) -- but not Postfix local's mailbox file
    # limit, "mail file size exceeds the maximum size allowed for mail delivery" (mailboxfull)
    r"size exceeds the maximum(?<!mail file size exceeds the maximum)"
    r"|exceeds the maximum size(?<!mail file size exceeds the maximum size)",
)
