"""The string-cut readings of smtpd rejects and remote replies give exactly what their regular expressions give.

postfix_lines.smtpd_reject and split_relay_reply avoid SMTPD_REJECT's and REMOTE_REPLY's backtracking (the lazy
reply tried the optional tail at every position: 11-14 µs and 5 µs a line). Their answers must not change: checked
on real shapes, on texts assembled from the pieces the patterns care about, and on random text.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest import postfix_lines as pl

REJECTS = [
    "RCPT from mail.p.example[198.51.100.1]: 550 5.1.1 <u@ours.example>: Recipient address rejected: User unknown "
    "in local recipient table; from=<a@p.example> to=<u@ours.example> proto=ESMTP helo=<mail.p.example>",
    "RCPT from unknown[192.0.2.7]: 554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using "
    "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7; from=<x@y.example> to=<u@ours.example> "
    "proto=ESMTP helo=<y>",
    "RCPT from [192.0.2.1]:5678: 550 5.7.1 Service unavailable; client [192.0.2.1] blocked using b.example; "
    "from=<a@b>, to=<c@d>, proto=ESMTP, helo=<h>",  # postscreen
    "CONNECT from h.example[192.0.2.1]: 554 5.7.1 <h.example[192.0.2.1]>: Client host rejected: Access denied; "
    "proto=SMTP",
    "MAIL from h[192.0.2.1]: 552 5.3.4 Message size exceeds fixed limit; from=<a@b> proto=ESMTP helo=<h>",
    "END-OF-MESSAGE from h[192.0.2.1]: 5.7.1 spam; from=<> to=<c@d> proto=ESMTP helo=<h>",
    "RCPT from h[192.0.2.1]: 550 5.7.1 odd; from=<a@b> text to=<c@d>; from=<e@f> to=<g@h> proto=ESMTP helo=<h>",
    "RCPT from h[192.0.2.1]: 550 reply with proto=X inside; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
    "RCPT from h[192.0.2.1]: 550 ends oddly; from=<a@b> to=<c@d> proto=ESMTP helo=<h> trailing",
    "RCPT from h[192.0.2.1]: ",
    "header Subject: x from h[192.0.2.1]; from=<a> to=<b> proto=ESMTP helo=<h>: 5.7.1 message content rejected",
]
REPLIES = [
    "host mx.b.example[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)",
    "host mx.b.example[192.0.2.1]:25 said: 550-5.7.26 DMARC 550 5.7.26 (p) x - gsmtp (in reply to end of DATA command)",
    "host mx.b.example[192.0.2.1] refused to talk to me: 554 5.7.1 go away",
    "host mx.b.example[192.0.2.1] said: 451 (in reply to  command)",
    "host mx.b.example[192.0.2.1] said: 550 nested (in reply to x) (in reply to RCPT TO command)",
    "host mx.b.example[192.0.2.1] said: 550 (in reply to command)",
    "delivered to mailbox",
    "connect to mx.b.example[192.0.2.1]:25: Connection timed out",
    "host mx[192.0.2.1] said: line\nbreak (in reply to RCPT TO command)",
]


def by_pattern(text: str) -> pl.Reject | None:
    match = pl.SMTPD_REJECT.match(text)
    if match is None:
        return None
    return pl.Reject(*match.group("stage", "host", "ip", "reply", "sender", "rcpt", "helo"))


def split_by_pattern(text: str) -> tuple[str | None, str | None, bool]:
    return (None, None, False) if not text else pl._split_by_pattern(text)


def test_real_shapes_read_the_same() -> None:
    for text in REJECTS:
        assert pl.smtpd_reject(text) == by_pattern(text), text
    for text in REPLIES:
        assert pl.split_relay_reply(text) == split_by_pattern(text), text
    assert pl.smtpd_reject(REJECTS[0]).reply.endswith("in local recipient table")  # type: ignore[union-attr]
    assert pl.split_relay_reply(REPLIES[1])[1] == "END-OF-MESSAGE"


_PIECES = st.sampled_from([
    "RCPT from ", "CONNECT from ", "h.example", "[192.0.2.1]", ":25", ": ", "550 5.1.1 ", "<u@x>", "; from=<",
    "a@b", ">", ", to=<", " to=<", "c@d", "; proto=", " proto=", "ESMTP", ", helo=<", " helo=<", "h", "; ", ",",
    " ", "text", "\n", "(", ")", "host ", " said: ", " refused to talk to me: ", " (in reply to ", "RCPT TO",
    " command)", "end of DATA",
])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=24).map("".join))
def test_assembled_texts_read_the_same(text: str) -> None:
    assert pl.smtpd_reject(text) == by_pattern(text)
    assert pl.split_relay_reply(text) == split_by_pattern(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_random_texts_read_the_same(text: str) -> None:
    assert pl.smtpd_reject(text) == by_pattern(text)
    assert pl.split_relay_reply(text) == split_by_pattern(text)
