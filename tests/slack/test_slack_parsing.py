"""Free text and /bounce arguments: tables of what people type (as Slack delivers it) and what we look up."""

from __future__ import annotations

import json

import pytest

from bot.freetext import find_since, find_target, looks_like_bounce, plain_text
from bot.render import lists, modals
from bot.slash import parse_bounce
from bot.targets import Target
from tests.slack.limits import view_violations, violations

A = "alice@partner.example"


@pytest.mark.parametrize("text,expected", [
    (f"<@U0BOT> why did mail from <mailto:{A}|{A}> bounce?", Target("address", A)),
    (f"why did mail from <mailto:{A}> bounce", Target("address", A)),
    (f"what about {A.upper()}?", Target("address", A)),
    ("and <http://partner.example|partner.example>?", Target("domain", "partner.example")),
    ("see <https://partner.example/some/path>", Target("domain", "partner.example")),
    ("ip 192.0.2.10, please", Target("ip", "192.0.2.10")),
    ("mail from [2001:db8::25] bounced", Target("ip", "2001:db8::25")),
    ("message &lt;CAF1234.abc@mail.partner.example&gt; never arrived",
     Target("message_id", "CAF1234.abc@mail.partner.example")),
    ("msgid:abc123@host.example failed", Target("message_id", "abc123@host.example")),
    ("to:bob@ourcorp.example bounced", Target("recipient", "bob@ourcorp.example")),
    ("hello <@U123> and <#C123|general>, <!here>", None),
    ("version 1.2.3 is out", None),
    ("", None),
])
def test_find_target(text: str, expected: Target | None) -> None:
    assert find_target(text) == expected


def test_plain_text_unwraps_markup() -> None:
    assert plain_text(f"<mailto:{A}|{A}> &amp; <http://x.example|x.example>") == f"{A} & x.example"


def test_find_since() -> None:
    assert find_since("why did it bounce since 7d") is not None
    assert find_since("in the last 12h please") is not None
    assert find_since("why did it bounce") is None
    assert find_since("since whenever") is None


@pytest.mark.parametrize("text,bounce", [
    ("Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1",
     True),
    ("Undelivered Mail Returned to Sender\nThis is the mail system.\n<a@b.example>: 550 5.7.1 Rejected\n", True),
    (f"why did mail from {A} bounce?", False),
    ("line one\nline two\nline three mentions 550 5.1.1 once", False),
])
def test_looks_like_bounce(text: str, bounce: bool) -> None:
    assert looks_like_bounce(text) is bounce


@pytest.mark.parametrize("text,kind", [
    ("help", "help"), ("", "invalid"), ("approved", "approved"), ("cases", "cases"), ("digest", "digest"),
    ("digest 2026-11-01", "digest"), (A, "diagnose"), (f"{A} 7d", "diagnose"), ("192.0.2.1 2026-11-01", "diagnose"),
    ("msgid:x@y.example", "diagnose"), ("&lt;x@y.example&gt;", "diagnose"),
    (f"{A} 7d extra", "invalid"), ("cases now", "invalid"), ("digest tomorrow", "invalid"), ("!!", "invalid"),
])
def test_parse_bounce(text: str, kind: str) -> None:
    parsed = parse_bounce(text)
    assert parsed.kind == kind
    assert (parsed.error is not None) == (kind == "invalid")


def test_limits_checker_catches_each_limit() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    assert violations([section]) == []
    assert violations([section] * 51)
    assert violations([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    button = {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "a", "value": "v"}
    assert violations([{"type": "actions", "elements": [button]}]) == []
    assert violations([{"type": "actions", "elements": [{**button, "value": "v" * 2001}]}])
    assert violations([{"type": "actions", "elements": [{**button, "action_id": "a" * 256}]}])
    assert violations([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
    assert violations([{"type": "context", "elements": []}])
    assert view_violations({"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []})


def test_lists_stay_within_limits_when_long() -> None:
    from datetime import UTC, datetime

    from storage.models import ApprovedSender, SupportCase

    now = datetime(2026, 11, 1, tzinfo=UTC)
    many = [ApprovedSender(id=i, pattern=f"s{i}@" + "x" * 200 + ".example", kind="address", reason="r" * 400,
                           approved_by="U1", created_at=now, expires_at=None) for i in range(300)]
    many_cases = [SupportCase(id=i, target="t" * 900, title="T" * 255, opened_by="U1", created_at=now,
                              status="open", channel="C1") for i in range(300)]
    assert violations(lists.approved_message(many, can_remove=True)) == []
    assert violations(lists.cases_message(many_cases)) == []
    home = lists.home_view(approvals=many, cases=many_cases, blocked={"rejected": 5}, day="2026-10-31",
                           can_remove=True)
    assert view_violations(home) == []
    big = [{"type": "section", "text": {"type": "mrkdwn", "text": "e"}}] * 49 + [
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x"},
                                          "action_id": "bouncebot.open_case", "value": "{}"}]}]
    noticed = lists.with_notice(big, "approved by someone")
    assert violations(noticed) == [] and noticed[-1]["type"] == "actions" and noticed[-2]["block_id"]


def test_modal_metadata_round_trip_and_limits() -> None:
    origin = modals.Origin("address", A, "C1", "1.2", None)
    assert modals.Origin.load(origin.dump()) == origin
    assert view_violations(modals.approve_modal(origin)) == []
    assert view_violations(modals.case_modal(origin, title="t" * 400, description="d" * 5000)) == []
    with pytest.raises(ValueError):
        modals.Origin.load(json.dumps({"kind": "address"}))
    assert lists.button_target('{"kind": "address", "value": "a@b.example"}') == {"kind": "address",
                                                                                   "value": "a@b.example"}
    assert lists.button_target("not json") is None and lists.button_target('{"kind": 1}') is None
