"""RFC 3463 enhanced status codes: every decisive code decides, every general code is only a hint."""

from __future__ import annotations

import pytest

from bot.reasons import classify
from bot.reasons.status import DECISIVE, HINT


@pytest.mark.parametrize(("detail", "reason"), sorted(DECISIVE.items()))
@pytest.mark.parametrize("klass", ["5", "4"])
def test_decisive_code_decides_without_words(klass, detail, reason):
    result = classify(smtp_code=None, enhanced_status=f"{klass}.{detail}", text="")
    assert result.reason == reason
    assert result.rule == f"status:{klass}.{detail}"


@pytest.mark.parametrize(("detail", "reason"), sorted((d, r) for d, r in HINT.items() if r != "undefined"))
def test_hint_code_is_used_when_words_say_nothing(detail, reason):
    result = classify(smtp_code=550, enhanced_status=f"5.{detail}", text="550 nothing useful here")
    assert result.reason == reason
    assert result.rule == f"status-hint:5.{detail}"


def test_words_beat_a_general_code():
    # 5.7.1 is sent for spam, block lists and sender policy alike
    assert classify(smtp_code=550, enhanced_status="5.7.1", text="Message rejected as spam").reason == "spamdetected"
    assert classify(smtp_code=554, enhanced_status="5.7.1", text="Sender address rejected: Access denied").reason \
        == "rejected"
    assert classify(smtp_code=550, enhanced_status="5.7.1", text="Relay access denied").reason == "norelaying"


def test_more_specific_words_beat_a_blanket_5_1_1():
    result = classify(smtp_code=552, enhanced_status="5.1.1", text="sorry, mailbox x@example.org is over quota")
    assert result.reason == "mailboxfull"
    assert classify(smtp_code=550, enhanced_status="5.1.1", text="User unknown").reason == "userunknown"


def test_two_x_x_is_delivered_and_x_0_0_says_nothing():
    assert classify(smtp_code=250, enhanced_status="2.0.0", text="Ok").reason == "delivered"
    assert classify(smtp_code=550, enhanced_status="5.0.0", text="").reason == "onhold"
    assert classify(smtp_code=None, enhanced_status=None, text=None).reason == "undefined"


def test_status_found_in_text_when_not_given():
    assert classify(smtp_code=None, enhanced_status=None, text="550 5.2.2 over the limit").reason == "mailboxfull"
    assert classify(smtp_code=None, enhanced_status=None, text="Sorry (#5.1.1)").reason == "userunknown"


def test_garbage_status_is_ignored():
    assert classify(smtp_code=550, enhanced_status="nonsense", text="User unknown").reason == "userunknown"
