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


def test_not_a_bounce():
    with pytest.raises(NotABounce, match="no bounced recipient"):
        explain_bytes((BOUNCES / "plain_mail_01.eml").read_bytes())


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty file"),
    (b"   \n\n  ", "empty file"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "binary data"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary data"),
    (bytes(range(32)) * 50, "binary data"),
    (b"just some words\nwithout any header\n", "no mail headers"),
])
def test_bad_input_is_a_clear_error(data, message):
    with pytest.raises(BadMessage, match=message):
        explain_bytes(data)
