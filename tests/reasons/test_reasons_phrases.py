"""Phrase tables: every phrase of every reason, alone, gives that reason; a sample reply per reason."""

from __future__ import annotations

import importlib

import pytest

from bot.reasons import classify, phrases
from bot.vocab import REASONS

ALL_PHRASES = [
    (name, phrase)
    for name in phrases.ORDER
    for phrase in importlib.import_module(f"bot.reasons.phrases.{name}").PHRASES
]


def test_order_lists_each_reason_module_once_and_only_known_reasons():
    assert len(phrases.ORDER) == len(set(phrases.ORDER))
    assert set(phrases.ORDER) <= set(REASONS)


@pytest.mark.parametrize(("reason", "phrase"), ALL_PHRASES, ids=[f"{r}:{p}" for r, p in ALL_PHRASES])
def test_each_phrase_alone_gives_its_reason(reason, phrase):
    """No phrase is shadowed by an earlier reason's phrase (it would be dead data)."""
    assert phrases.match(phrase) == (reason, "phrase")


def test_every_phrase_is_lowercase_and_every_module_describes_itself():
    for reason, phrase in ALL_PHRASES:
        assert phrase == phrase.lower(), (reason, phrase)
    for name in phrases.ORDER:
        assert phrases.DESCRIPTIONS[name]


# One real-looking reply per reason, without codes, so that only the words decide.
SAMPLES = [
    ("Recipient address rejected: User unknown in local recipient table", "userunknown"),
    ("Host or domain name not found. Name service error for name=example.invalid type=MX", "hostunknown"),
    ("Quota exceeded (mailbox for user is full)", "mailboxfull"),
    ("Message size exceeds fixed maximum message size", "mesgtoobig"),
    ("Message length exceeds administrative limit", "exceedlimit"),
    ("The email account that you tried to reach is disabled. gsmtp", "suspend"),
    ("User has moved; please try <new@example.org>", "hasmoved"),
    ("Relay access denied", "norelaying"),
    ("Unauthenticated email from example.com is not accepted due to domain's DMARC policy", "authfailure"),
    ("Client host rejected: cannot find your hostname, [203.0.113.45]", "requireptr"),
    ("Messages with multiple addresses in From: header are not accepted", "notcompliantrfc"),
    ("Message rejected: contains a virus (Eicar-Test-Signature)", "virusdetected"),
    ("Message rejected as spam by Content Filtering", "spamdetected"),
    ("Our system has detected that this message is likely suspicious due to the very low reputation", "badreputation"),
    ("Client host [203.0.113.45] blocked using zen.spamhaus.org", "blocked"),
    ("Sender address rejected: Domain not found", "rejected"),
    ("Connection rate limit exceeded", "toomanyconn"),
    ("Our system has detected an unusual rate of unsolicited mail", "speeding"),
    ("Must issue a STARTTLS command first", "failedstarttls"),
    ("Authentication required", "securityerror"),
    ("This message violates our email policy", "policyviolation"),
    ("Refused due to recipient preferences", "filtered"),
    ("Domain example.org does not accept mail (null MX)", "notaccept"),
    ("Improper use of 8-bit data in message header", "contenterror"),
    ("retry timeout exceeded", "expired"),
    ("connect to mx.example.org[192.0.2.1]:25: Connection refused", "networkerror"),
    ("Insufficient system storage", "systemfull"),
    ("Temporary local problem - please try later", "systemerror"),
    ("Syntax error, command unrecognized", "syntaxerror"),
    ("mail delivery via pipe failed: procmail exited", "mailererror"),
]


@pytest.mark.parametrize(("text", "reason"), SAMPLES, ids=[s[1] for s in SAMPLES])
def test_sample_reply_per_reason(text, reason):
    assert classify(smtp_code=None, enhanced_status=None, text=text, stage="RCPT").reason == reason


def test_samples_cover_every_phrase_table():
    assert {reason for _, reason in SAMPLES} == set(phrases.ORDER)


def test_weak_words_only_when_nothing_specific():
    assert classify(smtp_code=None, enhanced_status=None, text="Your host is blocked").reason == "blocked"
    # "blocked" words but a block list named: the zone decides; spam words but a content verdict: spam
    assert classify(smtp_code=None, enhanced_status=None, text="Blocked - see https://www.spamcop.net/bl.shtml?"
                    "203.0.113.45").rule == "dnsbl:bl.spamcop.net"


@pytest.mark.parametrize(("text", "reason"), [
    # Mimecast's documented replies (its links name mimecast.com: not the weak word "MIME" of a content error)
    ("550 Rejected by header-based Anti-Spoofing policy: a@b.example - https://community.mimecast.com/docs/"
     "DOC-1369#550 [kY8wZr3nQxO2fTb1sLpA9g.uk77]", "policyviolation"),
    ("550 Anti-Spoofing policy - Inbound not allowed - https://community.mimecast.com/docs/DOC-1369#550",
     "policyviolation"),
    ("550 Message bounced due to Content Examination Policy - https://community.mimecast.com/docs/DOC-1369#550",
     "policyviolation"),
    ("550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550", "rejected"),
    ("550 Rejected by header based Blocked Senders - Block policy for Header From - "
     "https://community.mimecast.com/docs/DOC-1369#550", "rejected"),
    ("553 This route requires encryption (TLS) - https://community.mimecast.com/docs/DOC-1369#553", "securityerror"),
    ("554 Invalid MIME structure", "contenterror"),
])
def test_mimecast_wording_is_read_for_what_it_says(text, reason):
    assert classify(smtp_code=int(text[:3]), enhanced_status=None, text=text, stage="DATA").reason == reason


@pytest.mark.parametrize(("code", "status", "text", "reason"), [
    # the words beat a general code: 4.2.1 alone reads "mailbox disabled", 5.7.1 alone "blocked"
    (450, "4.2.1", "The user you are trying to contact is receiving mail too quickly. Please resend your message at "
     "a later time. gsmtp", "speeding"),
    (421, "4.7.1", "Messages to a@icloud.com deferred due to excessive volume. Try again later - "
     "https://support.apple.com/en-us/HT204137", "speeding"),
    (550, "5.7.1", "[CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
     "policyviolation"),
])
def test_provider_wording_beats_a_general_code(code, status, text, reason):
    assert classify(smtp_code=code, enhanced_status=status, text=text, stage="RCPT").reason == reason


def test_user_unknown_after_data_is_a_filter():
    assert classify(smtp_code=550, enhanced_status=None, text="550 Unknown user", stage="DATA").reason == "filtered"
    assert classify(smtp_code=550, enhanced_status=None, text="550 Unknown user",
                    stage="END-OF-MESSAGE").reason == "filtered"
    assert classify(smtp_code=550, enhanced_status=None, text="550 Unknown user", stage="RCPT").reason == \
        "userunknown"


def test_stage_decides_for_weak_words():
    assert classify(smtp_code=554, enhanced_status=None, text="554 go away", stage="CONNECT").reason == "blocked"
    assert classify(smtp_code=553, enhanced_status="5.1.0", text="553 not allowed", stage="MAIL").reason == "rejected"


def test_temporary_dns_failure_is_a_network_error():
    text = "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again"
    assert classify(smtp_code=450, enhanced_status="4.4.3", text=text).reason == "networkerror"
    assert classify(smtp_code=550, enhanced_status=None, text=text).reason == "hostunknown"


@pytest.mark.parametrize(("text", "reason"), [
    # amavisd-new names what it found after the id; its 554 5.7.0 alone reads "security error"
    ("554 5.7.0 Reject, id=04102-03 - spam", "spamdetected"),
    ("554 5.7.0 Reject, id=04103-04 - BANNED: application/x-msdownload,.exe,.exe-ms,invoice.exe", "policyviolation"),
    ("554 5.7.0 Reject, id=04104-05 - INFECTED: Eicar-Signature", "virusdetected"),
    ("554 5.7.0 Reject, id=04104-05 - VIRUS: Eicar-Test-Signature", "virusdetected"),
])
def test_amavisd_refusals_by_what_it_found(text, reason):
    assert classify(smtp_code=554, enhanced_status="5.7.0", text=text, stage="DATA", side="gateway").reason == reason


@pytest.mark.parametrize(("text", "reason"), [
    ("Ok, discarded, id=04105-06 - spam", "spamdetected"),
    ("Ok, discarded, id=04105-07 - BANNED: .exe,invoice.exe", "policyviolation"),
    ("Ok, discarded, id=04105-08 - INFECTED: Eicar-Signature", "virusdetected"),
])
def test_amavisd_discards_by_what_it_found(text, reason):
    """The words of a discard's 250 2.7.0 reply, without its codes (the ingest cuts them: they say success)."""
    assert classify(smtp_code=None, enhanced_status=None, text=text, side="gateway", disposition="deleted").reason \
        == reason
