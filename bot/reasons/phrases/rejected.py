"""rejected: the envelope sender (or its domain) was refused."""

DESCRIPTION = "the sender address or its domain was refused"

PHRASES = (
    "sender address rejected",               # Postfix check_sender_access, reject_unknown_sender_domain
    "sender rejected",                       # various
    "'send mail as'",                        # Google Workspace: the 'Send mail as' alias of the sender is misconfigured
    "provide a valid from",                  # GoDaddy "From: Domain is invalid. Please provide a valid From:"
    "purported responsible address",         # Sender ID (RFC 4407) checks the PRA: the sender
    "address that has been blacklisted",     # "you are sending to/from an address that has been blacklisted"
    "sender was rejected",                   # qmail-send "Connected to x but sender was rejected"
    "sender denied",                         # various
    "sender blocked",                        # various
    "sender is not allowed",                 # various
    "sender not allowed",                    # various
    "sender verify failed",                  # Exim sender verification
    "sender verification",                   # various
    "could not verify sender",               # various
    "unverified sender",                     # various
    "invalid sender",                        # various
    "bad sender",                            # various
    "domain of sender address",              # Sendmail "Domain of sender address x does not exist"
    "mail from this domain is not accepted", # Postfix access maps ("... is not accepted here")
    "from address rejected",                 # various
    "mail from rejected",                    # various
    "null sender",                           # various
    "empty envelope sender",                 # various
    "your envelope sender",                  # various
    # Mimecast's blocked-senders policies: "550 Envelope blocked - User Entry", "... - User Domain Entry",
    # "550 Rejected by header based Blocked Senders - Block policy for Header From", "550 Envelope rejected -
    # Block policy for Envelope From address" ("envelope blocked", "block policy for envelope from" below)
    "blocked senders - block policy",
    # The sender or its envelope address refused (round cls-general)
    "backscatter protection detected an invalid or expired email address",  # MDaemon
    "by non-member to a members-only list",  # Mailman "Post by non-member to a members-only list"
    "you are not allowed to post to this mailing list",  # list servers
    "denied by secumail valid-address-filter",  # SecuMail
    "is on senderfilterconfig list",         # Exchange sender filtering
    "emetteur invalide",                     # French ISPs "Emetteur invalide"
    "fully qualified email address required",  # McAfee MxLogic
    "has an outgoing mail suspension",       # various
    "is not a registered gateway user",      # mail gateways that accept only registered senders
    "mail from not owned by user",           # various submission servers
    "returned mail not accepted here",       # various (refuses bounces: MAIL FROM:<>)
    "unroutable sender address",             # Exim "Unrouteable/unroutable sender address"
    "unrouteable sender address",            # Exim
    "your email address has been blacklisted",  # MessageLabs: the sender address itself is listed
    "unresolvable rfc.5321",                 # Yahoo "451 ... deferred due to unresolvable RFC.5321 from domain"
    "envelope blocked",                      # Mimecast blocked senders "550 Envelope blocked - User Entry"
    "block policy for envelope from",        # Mimecast "Envelope rejected - Block policy for Envelope From address"
    # Exchange Online: the recipient (a group, mailbox, public folder, organization) takes mail only from
    # authenticated internal senders or from its allowed-senders list (5.7.12, 5.7.124, 5.7.133-136)
    "sender was not authenticated by organization",
    "sender was not authenticated for",
    "sendernotauthenticatedfor",
    "sender not in allowed-senders list",
    "spam abuse detected",                   # Exchange Online 5.7.501-503: the sending account is banned
    "sender domain does not exist",          # various "550 5.7.1 Sender domain does not exist" (before hostunknown)
    "sender's domain does not exist",        # various
    "resolver.rst.notauthorized",            # Exchange 5.7.1: the sender may not send to this recipient/group
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "sender domain",                         # "sender domain must exist", "sender domain not accepted"
    "return path",                           # various
)
