"""neutral_form: a reply with the recipient's local part and IPv4 addresses stood in for classifies as the reply.

The Postfix parser memoizes classification by this form (most refusals differ only in whom they refuse), so the
form must never change a reason, a cause or a named block list. Checked on the tables' own sample replies, on
real shapes, and on every reply Sisimai's bounce corpus makes the analyzer classify.
"""

from __future__ import annotations

import pytest

from bot.reasons import chain, classify, dnsbl_zone_in
from bot.reasons.normalize import neutral_form
from tests.reasons.test_reasons_dev_expected import CASES as DEV_CASES
from tests.reasons.test_reasons_dnsbl import ZONES
from tests.reasons.test_reasons_phrases import SAMPLES
from tests.reasons.test_reasons_providers import PROVIDER_CASES

SHAPES = [
    "550 5.1.1 <user123@example-corp.test>: Recipient address rejected: User unknown in local recipient table",
    "554 5.7.1 Service unavailable; Client host [198.51.100.167] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/198.51.100.167",
    "550 5.7.1 <mailbox-full@b.example>: Recipient address rejected: Access denied",
    "450 4.7.1 <unknown[192.0.2.7]>: Client host rejected: cannot find your hostname, [192.0.2.7]",
    "553 5.3.0 <a.b+tag@sub.example.org>... No such user here",
    "550 Blocked by 4.3.2.1.dnsbl.example listing; see http://dnsbl.example/?ip=1.2.3.4",
]


@pytest.mark.parametrize(("text", "expected"), [
    ("550 <user123@example.test>: no", "550 <x@example.test>: no"),
    ("blocked [198.51.100.7]; ip=198.51.100.7;", "blocked [192.0.2.1]; ip=192.0.2.1;"),
    ("Listed by 4.3.2.1.dnsbl.example (1.2.3.4.)", "Listed by 4.3.2.1.dnsbl.example (1.2.3.4.)"),
    ("mail to user@example.test refused", "mail to user@example.test refused"),  # only <address> local parts
    ("5.1.1 no such user", "5.1.1 no such user"),
])
def test_what_is_stood_in_for(text: str, expected: str) -> None:
    assert neutral_form(text) == expected


def _texts() -> list[str]:
    texts = [text for text, _ in SAMPLES] + [text for text, _ in ZONES] + SHAPES
    texts += [case[3] for case in DEV_CASES] + [case[3] for case in PROVIDER_CASES]
    return texts


def _same(call: dict) -> None:
    neutral = dict(call, text=neutral_form(call["text"]))
    assert (classify(**call).reason, classify(**call).cause) == (classify(**neutral).reason,
                                                                 classify(**neutral).cause), call["text"]
    assert dnsbl_zone_in(call["text"]) == dnsbl_zone_in(neutral["text"]), call["text"]


@pytest.mark.parametrize("side", ["gateway", "remote"])
def test_the_tables_samples_classify_alike(side: str) -> None:
    texts = _texts()
    assert len(texts) > 40
    for text in texts:
        for code, status, stage in ((None, None, None), (550, "5.1.1", "RCPT"), (554, "5.7.1", "DATA")):
            _same({"smtp_code": code, "enhanced_status": status, "text": text, "stage": stage, "side": side,
                   "disposition": "rejected", "host": None})


@pytest.mark.slow
def test_every_reply_of_the_sisimai_corpus_classifies_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the bounce analyzer asks the classifier while reading Sisimai's 591 messages, asked again neutrally."""
    from tests.reasons.test_explain_corpus import _accuracy_module
    from tests.support import shared_path

    corpus = shared_path("corpus", "sisimai")
    calls: list[dict] = []

    def recording(**call: object) -> chain.Classification:
        calls.append(call)
        return chain.classify(**call)  # type: ignore[arg-type]

    import bot.bounce.explain as explain
    monkeypatch.setattr(explain, "classify", recording)
    _accuracy_module().run(corpus)
    asked = [call for call in calls if call.get("text")]
    assert len(asked) > 500
    changed = [call for call in asked if neutral_form(str(call["text"])) != call["text"]]
    assert len(changed) > 50  # the corpus does name recipients and IPs
    for call in changed:
        _same(call)
