"""securityerror: authentication or encryption the receiver requires was missing or failed."""

DESCRIPTION = "the receiving side required authentication or encryption that failed"

PHRASES = (
    "unauthenticated senders",               # "550 Unauthenticated senders not allowed"
    "delivery not authorized",               # RFC 3463 X.7.1 "Delivery not authorized, message refused"
    "authentication required",               # RFC 4954 530 5.7.0
    "must be authenticated",                 # various
    "authentication failed",                 # various
    "authentication is required",            # various
    "encryption required",                   # various
    # Mimecast "553 This route requires encryption (TLS)", "... requires TLS version 1.2 or greater", "...
    # requires high-strength ciphers" (its Secure Receipt policies)
    "route requires encryption",
    "route requires tls",
    "route requires high-strength ciphers",
    "authentication credentials invalid",    # RFC 4954 535 5.7.8
    "not authorized to relay",               # various
    "user not authenticated",                # various
    "submission port",                       # various
    "smtp auth",                             # various
    "authentication failure",                # "535 5.7.0 Authentication failure" (SMTP AUTH)
    "authentication turned on in your email client",  # Yahoo/AOL submission
    "account not subscribed to ses",         # Amazon SES
    "is not authorized to perform ses:sendrawemail",  # Amazon SES IAM refusal
    "this route requires encryption",        # Mimecast "553 This route requires encryption (TLS)"
    "this route requires tls version",       # Mimecast
    "this route requires high-strength ciphers",  # Mimecast
    "authentication not allowed on",         # GoDaddy IB401 "Authentication not allowed on IBSMTP Servers"
    "server does not support auth",          # Exchange 5.5/2003 "(000B0981) 502 Server does not support AUTH"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "sender is not authorized",              # various
    "security policy",                       # various
)
