"""bot.bounce on our own sample bounces (tests/samples/bounces), written for these tests."""

from __future__ import annotations

import pytest

from bot.bounce import BadMessage, NotABounce, explain_bytes, explain_text
from tests.support import SAMPLES

BOUNCES = SAMPLES / "bounces"

# file -> [(address, status, smtp code, reason, cause)] in the message's order
EXPECTED = {
    "dsn_01.eml": [
        ("k.bauer@hanse-logistik.example", "5.1.1", 550, "userunknown", "invalid_recipient"),
        ("h.larsen@nordic-fjord.example", "5.2.2", 552, "mailboxfull", "recipient_unavailable"),
    ],
    "dsn_crlf_01.eml": [
        ("k.bauer@hanse-logistik.example", "5.1.1", 550, "userunknown", "invalid_recipient"),
        ("h.larsen@nordic-fjord.example", "5.2.2", 552, "mailboxfull", "recipient_unavailable"),
    ],
    "exim_01.eml": [("orders@meridian-health.example", "5.7.1", 554, "blocked", "remote_blacklist")],
    "office365_01.eml": [("lena.fischer@outlook.example", "5.7.606", 550, "blocked", "remote_blacklist")],
    "gmail_01.eml": [("marco.bianchi1987@gmail.example", "5.7.26", 550, "authfailure", "remote_policy")],
    "qmail_01.eml": [("support@cloudnine-hosting.example", "5.7.1", 550, "norelaying", "remote_policy")],
    "arf_01.eml": [("pat.reader@mailbox-provider.example", None, None, "feedback", "remote_policy")],
    "vacation_01.eml": [("ines.larsen@partner-firm.example", None, None, "vacation", "delivered")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample(name):
    results = explain_bytes((BOUNCES / name).read_bytes())
    assert [(r.address, r.status, r.smtp_code, r.reason, r.cause) for r in results] == EXPECTED[name]
    assert all(r.text for r in results)


def test_crlf_and_lf_read_the_same():
    lf = (BOUNCES / "dsn_01.eml").read_bytes()
    crlf = (BOUNCES / "dsn_crlf_01.eml").read_bytes()
    assert b"\r\n" in crlf and b"\r\n" not in lf
    assert explain_bytes(lf) == explain_bytes(crlf)


def test_pasted_text_is_read_like_a_file():
    text = (BOUNCES / "exim_01.eml").read_text()
    assert explain_text(text) == explain_bytes(text.encode())


def test_mbox_with_two_bounces_gives_both_in_order():
    one = (BOUNCES / "exim_01.eml").read_bytes()
    two = (BOUNCES / "qmail_01.eml").read_bytes()
    mbox = (b"From MAILER-DAEMON Mon Nov 30 07:12:40 2026\n" + one + b"\n"
            b"From MAILER-DAEMON Mon Nov 30 10:02:11 2026\n" + two)
    assert [r.address for r in explain_bytes(mbox)] == ["orders@meridian-health.example",
                                                         "support@cloudnine-hosting.example"]


PASTED_NDR = """Delivery has failed to these recipients or groups:

lena.fischer@contoso.example
The email address you entered couldn't be found. Please check the recipient's email address and try to resend.

Diagnostic information for administrators:

lena.fischer@contoso.example
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'
"""


def test_pasted_body_without_headers():
    """Slack users paste what their mail client shows: the bounce's body, without headers."""
    (result,) = explain_text(PASTED_NDR)
    assert (result.address, result.status, result.reason, result.cause) == (
        "lena.fischer@contoso.example", "5.1.10", "userunknown", "invalid_recipient")


def test_pasted_dsn_fields_are_not_taken_for_headers():
    text = ("Final-Recipient: rfc822; k.bauer@hanse-logistik.example\nAction: failed\nStatus: 5.1.1\n"
            "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n")
    (result,) = explain_text(text)
    assert (result.address, result.reason) == ("k.bauer@hanse-logistik.example", "userunknown")


def test_words_without_headers_are_no_bounce():
    with pytest.raises(NotABounce, match="no bounced recipient"):
        explain_bytes(b"just some words\nwithout any header\n")


def test_not_a_bounce():
    with pytest.raises(NotABounce, match="no bounced recipient"):
        explain_bytes((BOUNCES / "plain_mail_01.eml").read_bytes())


@pytest.mark.parametrize("data", [
    # damaged headers and charsets come back from the email package as Header objects or bad codec names
    b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\nAuto-Submitted:\x80\n\nx",
    b"From: MAILER-DAEMON@example.org\nContent-Type: text/plain; charset=\"us\x00ascii\"\n\nStatus: 5.1.1\n",
    b"From: a@example.org\nAuto-Submitted: \xc3\xa9t\xc3\xa9\nSubject: x\n\nhello\n",
    b"From: mailer-daemon@example.org\nSubject: =?utf-8?q?\xff?=\nContent-Type: text/plain; charset=\"ut\x00f\"\n\n"
    b"<x@example.net>:\n550 user unknown\n",
    b"From: x@example.org\nContent-Type: multipart/report; report-type*=utf-8''feedback-report; boundary=b\n\n--b\n"
    b"Content-Type: message/feedback-report\n\nFeedback-Type: abuse\nOriginal-Rcpt-To: a@example.net\n--b--\n",
])
def test_damaged_messages_never_crash(data):
    try:
        results = explain_bytes(data)
    except (BadMessage, NotABounce) as exc:
        assert str(exc)
    else:
        assert all(r.reason and r.cause for r in results)


def test_cause_follows_the_final_reason():
    """An SMTP "user unknown" after DATA ends as filtered: its cause is the remote's policy, not the address."""
    data = b"From: mailer-daemon@example.org\nSubject: failure notice\n\n<x@example.net>:\n550 user unknown\n"
    (result,) = explain_bytes(data)
    assert (result.reason, result.cause) == ("filtered", "remote_policy")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty file"),
    (b"   \n\n  ", "empty file"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "binary data"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary data"),
    (bytes(range(32)) * 50, "binary data"),
])
def test_bad_input_is_a_clear_error(data, message):
    with pytest.raises(BadMessage, match=message):
        explain_bytes(data)


def test_apple_mail_unsubscribe_is_feedback():
    data = (b"From: reader@icloud.example\nTo: opt-out-1234@lists.northwind-traders.example\nSubject: unsubscribe\n"
            b"Auto-Submitted: auto-replied\nX-Apple-Unsubscribe: true\n\nApple Mail sent this email to unsubscribe.\n")
    (result,) = explain_bytes(data)
    assert (result.address, result.reason) == ("reader@icloud.example", "feedback")


def test_eight_bit_recipient_in_a_dsn_is_read_as_utf8():
    data = (b"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail Returned to Sender\n"
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=XX\n\n--XX\n"
            b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
            b"Final-Recipient: utf-8; j\xc3\xb6rg@b\xc3\xbccher.example\nAction: failed\nStatus: 5.2.2\n"
            b"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n\n--XX--\n")
    (result,) = explain_bytes(data)
    assert (result.address, result.reason) == ("jörg@bücher.example", "mailboxfull")
