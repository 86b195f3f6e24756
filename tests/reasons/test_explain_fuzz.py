"""explain_bytes never crashes: any bytes give recipients or BadMessage/NotABounce."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bounce import BadMessage, NotABounce, explain_bytes
from bot.vocab import REASONS, Cause
from tests.support import SAMPLES

SAMPLE_BYTES = [p.read_bytes() for p in sorted((SAMPLES / "bounces").glob("*.eml"))]
fragments = st.sampled_from([
    b"From: MAILER-DAEMON@example.org\n", b"Content-Type: multipart/report; report-type=delivery-status;"
    b" boundary=\"b\"\n", b"\n--b\n", b"--b--\n", b"Content-Type: message/delivery-status\n\n",
    b"Final-Recipient: rfc822; a@example.org\n", b"Action: failed\n", b"Status: 5.1.1\n",
    b"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n", b"<a@example.org>:\n", b"550 blocked using x.example\n",
    b"\r\n", b"\x00", b"\xff\xfe", b"Content-Transfer-Encoding: base64\n", b"=?utf-8?b?w6k=?=\n",
    b"{\"notificationType\":\"Bounce\"", b"From a@b Mon Nov 30 07:12:40 2026\n",
    b"Auto-Submitted: \x80\xc3\n", b"Content-Type: text/plain; charset=\"us\x00ascii\"\n",
    b"Subject: =?utf-8?q?\xff?=\n", b"X-Failed-Recipients: =?bogus?b?@@?=\n",
    b"Content-Type: multipart/report; report-type*=utf-8''feedback-report\n",
])


def _check(data: bytes) -> None:
    try:
        results = explain_bytes(data)
    except (BadMessage, NotABounce) as exc:
        assert str(exc)
        return
    assert results
    for r in results:
        assert r.reason in REASONS
        assert r.cause in {str(c) for c in Cause}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    _check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fragments, max_size=40).map(b"".join))
def test_bounce_like_fragments(data):
    _check(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLE_BYTES), st.integers(min_value=0, max_value=5000), st.binary(max_size=50))
def test_damaged_samples(sample, cut, junk):
    _check(sample[:cut] + junk + sample[cut:])


def test_pathological_inputs_are_read_in_bounded_work():
    """Inputs that once cost quadratic time (a text full of JSON braces) or scanned megabytes of one line."""
    braces = b"From: x@example.org\n\n" + b'{"notificationType"' + b"{" * 300_000
    long_line = (b"From: mailer-daemon@example.org\nSubject: failure notice\n\n"
                 + b"delivered to a@example.net " * 200_000)
    _check(braces)
    _check(long_line)
