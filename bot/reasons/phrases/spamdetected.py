"""spamdetected: a content filter judged the message to be spam."""

DESCRIPTION = "the receiving content filter judged the message as spam"

PHRASES = (
    "blacklisted url",                       # IMail/SpamAssassin URIBL: "Blacklisted URL in message"
    "uribl",                                 # URI block lists check the links in the content
    "surbl",                                 # URI block lists check the links in the content
    "spam classification",                   # Google Groups "rejected due to spam classification"
    "scored as spam",                        # "This message has been scored as spam with a probability of ..."
    "rejected as spam",                      # "Message rejected as spam by Content Filtering"
    "detected as spam",                      # various
    "considered spam",                       # various
    "considered as spam",                    # various
    "identified as spam",                    # various
    "classified as spam",                    # various
    "marked as spam",                        # various
    "looks like spam",                       # Postfix header_checks texts, Gmail
    "appears to be spam",                    # various
    "spam detected",                         # various
    "spam message",                          # various
    "spam content",                          # various
    "spam score",                            # SpamAssassin-based filters
    "spamassassin",                          # SpamAssassin milters
    "message is spam",                       # various
    "suspected spam",                        # various
    "probably spam",                         # various
    "high spam",                             # "high spam probability"
    "spam rejected",                         # various
    "spam filter",                           # "rejected by spam filter"
    "anti-spam",                             # "rejected by anti-spam software"
    "antispam",                              # various
    "likely unsolicited mail",               # Gmail 5.7.1 "this message is likely unsolicited mail"
    "unsolicited bulk",                      # various
    "junk mail",                             # various
    "rejected due to content filter",        # various
    "content filter rejection",              # various
    "blocked by spam",                       # various
    "spam policy",                           # various
    "this message has been blocked because it contains spam",  # hosted filters
    "message content rejected",              # Yahoo "message content rejected"
    "spam rejection",                        # '554 5.7.1 Message cannot be accepted, spam rejection'
    "bulk email",                            # '550 5.7.1 Rejected - bulk email'
    "classification as bulk mail",           # '550-5.7.1 The message was rejected due to classification as Bulk mail'
    # Sendmail milters '... matches a profile the Internet community may consider spam'
    "may consider spam",
    "thinks this email is spam",             # '550 5.7.1 Sorry, our email server thinks this email is spam'
    "similar to spam",                       # '554 5.7.1 Your email appears similar to spam we have received before'
    # '554 5.7.1 Mail (id) appears to be unsolicited - Score (59) over MessageScoringUpperLimit'
    "appears to be unsolicited",
    "dspam",                                 # DSPAM filter '553 5.7.3 CONTENT REJECT:...:dspam check:4:...'
    # SpamBouncer '554 SpamBouncer identified SPAM, message permanently rejected (#5.3.0)'
    "identified spam",
    "spam not accepted",                     # Exim ACL '451 SPAM not accepted'
    # MessageLabs '554 email rejected due to security policies - MCSpamSignature.sa.5.6'
    "spamsignature",
    "mail content denied",                   # QQ Mail "550 Mail content denied"
    "message rejected because of unacceptable content",  # various
    "reject bulk.advertising",               # various
    "recurrent pattern detection system",    # Commtouch/Cyren RPD "rejected by Recurrent Pattern Detection System"
    "has been temporarily blocked by our filter",  # "Your message has been temporarily blocked by our filter"
    "rejected for spam or virus content",    # GoDaddy "552 Message rejected for spam or virus content"
    "under suspicion of spam",               # Yandex "554 5.7.1 [2] Message rejected under suspicion of SPAM"
)

PATTERNS = (
    r"reject, id=(?<=\breject, id=)[^,]*? - spam\b",         # amavisd-new "554 5.7.0 Reject, id=12345-01 - SPAM"
    r"discarded, id=[^,]*? - spam\b",        # amavisd-new D_DISCARD "250 2.7.0 Ok, discarded, id=12345-01 - spam"
)

#: Generic words, tried only after no reason matched on its specific phrases.
WEAK = (
    "bulk mail",                             # various
    "spam",                                  # generic; last, and never when a block list is named
)
