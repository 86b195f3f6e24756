"""Any input the ingestion could hand over gives a known reason and cause, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reasons import classify, dnsbl_zone_in
from bot.vocab import REASONS, Cause

CAUSES = {str(c) for c in Cause}
words = st.sampled_from(["550", "5.7.1", "4.4.1", "user", "unknown", "blocked using", "zen.spamhaus.org", "spam",
                         "quota", "-", "550-5.7.26", "#5.1.1", "rbl+", "[BL21]", "gsmtp", "(in reply to", "RCPT"])
texts = st.one_of(st.none(), st.text(max_size=300), st.lists(words, max_size=30).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(
    code=st.one_of(st.none(), st.integers(min_value=-1000, max_value=1000)),
    status=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"[245]\.\d{1,3}\.\d{1,3}", fullmatch=True)),
    text=texts,
    stage=st.one_of(st.none(), st.sampled_from(["CONNECT", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE"]),
                    st.text(max_size=10)),
    side=st.sampled_from(["gateway", "remote", "bogus"]),
    disposition=st.one_of(st.none(), st.sampled_from(["delivered", "deferred", "bounced", "rejected", "expired"])),
    host=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["gmail-smtp-in.l.google.com", "outlook.com"])),
)
def test_classify_total(code, status, text, stage, side, disposition, host):
    result = classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, side=side,
                      disposition=disposition, host=host)
    assert result.reason in REASONS
    assert result.cause in CAUSES
    assert result.rule


@settings(max_examples=300, deadline=None)
@given(texts)
def test_zone_total(text):
    zone = dnsbl_zone_in(text)
    assert zone is None or ("." in zone and zone == zone.lower())


def test_memo_gives_the_same_answer_and_stays_bounded():
    from bot.reasons.chain import _classify

    first = classify(smtp_code=550, enhanced_status="5.1.1", text="User unknown", stage="RCPT")
    again = classify(smtp_code=550, enhanced_status="5.1.1", text="User unknown", stage="RCPT")
    assert first == again
    for i in range(9000):
        classify(smtp_code=550, enhanced_status=None, text=f"reply number {i}")
    assert _classify.cache_info().currsize <= _classify.cache_info().maxsize
