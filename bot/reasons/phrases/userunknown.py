"""userunknown: the recipient's mailbox does not exist at the receiving domain."""

DESCRIPTION = "the recipient address does not exist"

PHRASES = (
    "user unknown",                          # Sendmail "... User unknown"; Postfix "User unknown in ... table"
    "unknown user",                          # qmail/vpopmail, Courier, many appliances
    "unknown recipient",                     # Exchange, Zimbra, Mimecast
    "recipient unknown",                     # Domino, Exim routers
    "recipient not found",                   # Exchange 2007+ "Recipient not found by SMTP address lookup"
    "recipient does not exist",              # hosted filters
    "no such user",                          # Exim "No such user here", Courier, Cyrus
    "no such recipient",                     # various
    "no such mailbox",                       # Exim/Dovecot LMTP
    "no such account",                       # webmail providers
    "no such address",                       # various
    "no mailbox here by that name",          # qmail-smtpd "sorry, no mailbox here by that name"
    "mailbox not found",                     # Exchange/IIS, MDaemon
    "mailbox does not exist",                # Yahoo "mailbox does not exist", hosting providers
    "mailbox is not exist",                  # Chinese providers (QQ, 163)
    "mailbox unavailable or not local",      # IIS SMTP
    "user does not exist",                   # Zimbra "user does not exist"
    "user not found",                        # Zoho, Kerio
    "address does not exist",                # Gmail "The email account that you tried to reach does not exist"
    "account that you tried to reach does not exist",  # Gmail 5.1.1
    "account does not exist",                # hosting providers
    "account not found",                     # hosting providers
    "invalid recipient",                     # Barracuda, Proofpoint
    "invalid mailbox",                       # various
    "not a valid recipient",                 # Exim with recipient verification
    "not a valid mailbox",                   # various
    "unknown local part",                    # Exim "Unknown local part x in <x@y>"
    "address unknown",                       # Sendmail/Notes "Addressee unknown"
    "addressee unknown",                     # Notes/Domino
    "bad destination mailbox address",       # RFC 3463 5.1.1 text echoed by MTAs
    "recipient address rejected: user unknown",  # Postfix virtual/relay tables
    "recipient address rejected: unknown user",  # Postfix with recipient maps
    "recipient address rejected: access denied",  # Microsoft 365 directory-based edge blocking, without 5.4.1
    "recipient name is not recognized",      # Exchange 2003 "The recipient name is not recognized"
    "invalid final delivery userid",         # IMail Server
    "address couldn't be found",             # Gmail/Google Workspace "because the address couldn't be found"
    "check if address is correct",           # InterScan MSS "Please check if address is correct"
    "user not exist",                        # various ("User not exist")
    "not a registered",                      # "is not a registered gateway user"
    "recipient address rejected: undeliverable address",  # Postfix reject_unverified_recipient
    "undeliverable address",                 # Postfix address verification
    "said: 550 5.1.1",                       # echoed replies in plain-text bounces
    "unknown or illegal alias",              # Sendmail aliases
    "no valid recipients",                   # various
    "recipnotfound",                         # Exchange resolver "RESOLVER.ADR.RecipNotFound"
    "resolver.adr.recipnotfound",            # Exchange
    "resolver.adr.exrecipnotfound",          # Exchange
    "is not a known user",                   # various
    "not listed in domino directory",        # Lotus Domino "not listed in Domino Directory"
    "not listed in public name & address book",  # old Domino
    "this user doesn't have a",              # Yahoo "This user doesn't have a yahoo.com account"
    "no account by that name",               # various
    "email address could not be found",      # Exchange 2010 text bounce
    "e-mail address was not found",          # Exchange text bounce
    "the email address you entered couldn't be found",  # Office 365 text bounce
    "couldn't be found, or is invalid",      # Office 365 text bounce
    "requested action not taken: mailbox unavailable",  # Exchange/Outlook.com 550 for a missing mailbox
    "destination address rejected",          # various
    "doesn't have an account",               # various
    "no such person",                        # "no such person at this address"
    "user doesn't exist",                    # various
    "bad_recipient",                         # hosted filters '550 BAD_RECIPIENT - see http://...'
    "nonexistent user",                      # Postfix access maps 'Recipient address rejected: Nonexistent user'
    # Wording families of other MTAs for a mailbox that does not exist (round cls-general)
    "is not an active address at this host",  # FreeUK/Demon "x is not an active address at this host"
    "archived recipient",                    # Google Workspace: the account was archived, mail is refused
    "destination addresses were unknown",    # Lotus Notes "some destination addresses were unknown"
    "destination server rejected recipients",  # Exchange 2003 "The destination server rejected recipients"
    "mailbox invalid",                       # various ("550 Mailbox invalid")
    "mailbox not present",                   # various
    "no existe dicha persona",               # Spanish-language ISPs "no existe dicha persona"
    "no existe ese usuario",                 # Spanish-language ISPs
    "no mailbox by that name is currently available",  # Netscape/iPlanet Messaging Server
    "not a valid user here",                 # various ("550 x is not a valid user here")
    "recipient not ok",                      # various ("550 Recipient not OK")
    "badrcptto",                             # qmail badrcptto patch "sorry, badrcptto" / "is in my badrcptto list"
    "the user's email name is not found",   # various
    "there is no one at this address",       # various
    "this address no longer accepts mail",   # AOL/Verizon
    "this email address is wrong or no longer valid",  # various
    "this spectator does not exist",         # Mail.ru
    "unknown e-mail address",                # various
    "unknown email address",                 # various
    "unknown mailbox",                       # various
    "user missing home directory",           # local delivery agents (mail.local)
    "unknown virtual user",                  # vpopmail "vdeliver: Invalid or unknown virtual user"
    "can't accept user",                    # various
    "bad-recipient",                         # "550 BAD-RECIPIENT" (like BAD_RECIPIENT)
    "non répertorié dans l'annuaire domino",  # Domino (French) "Utilisateur x non répertorié dans l'annuaire Domino"
    "the recipient cannot be verified",      # Exchange, Barracuda recipient verification
    "receiver not found",                    # CompuServe "Receiver not found: someone"
    "invalid receiver address",              # various gateways "Invalid receiver address: x"
    "unknown local-part",                    # Exim 'Unknown local-part "x" in domain "y"'
    "recipient no longer accepts mail",      # various
)

PATTERNS = (
    r"<[^>]*>\.\.\. user unknown",           # Sendmail
    r"user(?<=\buser) (?:[^ ]+ )?unknown\b",          # "user xyz unknown"
    r"mailbox [^ ]+ does not exist",         # Yandex and others
    # '550 User [x@y] does not exist', '554 Rcpt <x@y> does not exist'
    r"\b(?:user|rcpt|recipient|mailbox|account|address(?:ee)?)\b(?:[^.;:]|\.(?=\S)){0,80}?"
    r"\b(?:does not|doesn't|do not) exist",
    # '550 ** No mail box available for this user **', '550 5.7.1 No mailbox found'
    r"no(?<=\bno) mail ?-?box (?:available|found)\b",
    # qmail badrcptto '553 sorry, badrcptto(user mail-box not found)'
    r"mail-box not found\b(?<=\bmail-box not found)",
    r"<[^<>\s]+@[^<>\s]+> not found",       # "550 <someone@example.net> not found"
    r"recipient \S+ was not found in ",     # "Recipient someone@example.net was not found in LDAP/directory"
    r"user \S+ was not found",           # "User someone@example.net was not found"
    r"mailbox \S+@\S+ unavailable",           # "Mailbox someone@example.net unavailable"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    # "Mailbox unavailable" alone (IIS, Zoho, various): generic, so a mailbox-status code (5.2.1 disabled) says more
    "mailbox unavailable",
    "mailbox is unavailable",
    "recipient address rejected",            # Postfix "Recipient address rejected." with no detail
    "invalid address",                       # various
    "unknown address",                       # various
    "address rejected",                      # Exchange "550 5.1.1 RESOLVER.ADR.RecipNotFound"
    "recipient rejected",                    # Exim ACLs, hosted filters
    "nonexistent",                           # "nonexistent user", "non-existent"
    "non-existent",                          # "non-existent mailbox"
)
