"""Slack's text rules: escaping everywhere, cutting before escaping, Slack dates, people vs the CLI, Slack tips."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot import messages
from bot.answers import Answer, diagnosis_answer
from bot.diagnosis.model import Diagnosis, Evidence, Finding, Verdict
from bot.render import lists, mrkdwn
from bot.render.blocks import render_blocks
from storage.models import ApprovedSender, SupportCase
from tests.slack.limits import violations

WHEN = datetime(2026, 12, 6, 14, 3, 22, tzinfo=UTC)
_ENTITY_OR_LINK_CUT = re.compile(r"&[a-z]*…|<[^>]*…")


@pytest.mark.parametrize("text", ["a & b < c > d " * 400, "&" * 5000, "<" * 3001, "x" * 2999 + "&&"])
def test_fit_cuts_before_escaping_and_never_inside_an_entity(text: str) -> None:
    out = mrkdwn.fit(text, 3000)
    assert len(out) <= 3000
    assert not _ENTITY_OR_LINK_CUT.search(out)
    assert out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_fit_leaves_short_text_whole() -> None:
    assert mrkdwn.fit("<alice@partner.example> & co", 100) == "&lt;alice@partner.example&gt; &amp; co"


def test_cut_mrkdwn_moves_back_before_a_link_or_an_entity() -> None:
    link = "see <https://www.spamhaus.org/query/ip/192.0.2.10|delist> now"
    assert mrkdwn.cut_mrkdwn(link, 20) == "see …"
    assert mrkdwn.cut_mrkdwn("ab &amp; cd", 6) == "ab …"
    assert mrkdwn.cut_mrkdwn("short", 10) == "short"


def test_dates_use_slack_formatting_with_a_utc_fallback() -> None:
    shown = mrkdwn.date(WHEN)
    assert shown == f"<!date^{int(WHEN.timestamp())}^{{date_short_pretty}} {{time}}|2026-12-06 14:03 UTC>"
    assert mrkdwn.date(None, none="no expiry") == "no expiry"
    naive = mrkdwn.date(WHEN.replace(tzinfo=None))  # the store's naive times are UTC
    assert naive == shown


@pytest.mark.parametrize(("who", "shown"), [
    ("U012AB3CD", "<@U012AB3CD>"), ("W0ENTERPR", "<@W0ENTERPR>"), ("cli:root", "root (command line)"),
    ("scheduler", "scheduler"), ("cli:<evil>", "&lt;evil&gt; (command line)"), (None, "someone"),
])
def test_actors_that_are_not_slack_users_are_text(who: str | None, shown: str) -> None:
    assert mrkdwn.actor(who) == shown


def test_messages_never_mention_the_cli_as_a_user() -> None:
    assert "<@cli:root>" not in messages.approved_notice("a@b.example", "address", "cli:root", None, None)
    assert "<@" not in messages.approval_removed("a@b.example", "cli:ops")
    assert "<@UAPPROVER>" in messages.approval_removed("a@b.example", "UAPPROVER")


def test_utc_times_in_diagnosis_texts_become_slack_dates() -> None:
    text = "No mail was found between 2026-12-06 14:03 and 2026-12-07 09:00:59 UTC; newest 2026-12-06 14:03 UTC."
    shown = mrkdwn.slack_dates(text)
    assert shown.count("<!date^") == 3 and f"<!date^{int(WHEN.replace(second=0).timestamp())}^" in shown
    assert "between <!date^" in shown and " and <!date^" in shown and "14:03 and" not in shown
    assert mrkdwn.slack_dates("2026-13-45 99:99 UTC") == "2026-13-45 99:99 UTC"


def test_slack_tips_use_the_slash_command() -> None:
    tip = "Check the spelling, or ask about the whole domain: `why partner.example`."
    assert mrkdwn.slack_tips(tip) == "Check the spelling, or ask about the whole domain: `/bounce partner.example`."


def test_lists_escape_titles_and_show_dates_and_actors() -> None:
    approval = ApprovedSender(id=1, pattern="a&b@x.example", kind="address", reason="<trusted> & known",
                              approved_by="cli:root", created_at=WHEN, expires_at=None)
    line = lists.approval_line(approval)
    assert "a&amp;b@x.example" in line and "&lt;trusted&gt; &amp; known" in line
    assert "<@cli:root>" not in line and "root (command line)" in line and "<!date^" in line
    case = SupportCase(id=7, target="a@x.example", title="Mail <a@x.example> & co bounces", status="open",
                       opened_by="UALICE", created_at=WHEN, channel="C1", description=None)
    assert lists.case_text(case) == "Support case #7 (open): Mail &lt;a@x.example&gt; &amp; co bounces"
    assert "Opened by <@UALICE> <!date^" in json.dumps(lists.case_message(case))


def _diagnosis(**kw) -> Diagnosis:
    evidence = Evidence(time=WHEN, direction="inbound", disposition="rejected", sender="a@x.example",
                        recipient="<b@ourcorp.example>", client_ip="192.0.2.10", client_host=None, relay=None,
                        smtp_code=554, enhanced_status="5.7.1", reply_text="blocked <a@x.example> & more",
                        size=None, nrcpt=None, message_id=None, queue_id=None, source="test")
    finding = Finding(cause="gateway_reputation", reason="blocked", direction="inbound", count=1,
                      first_seen=WHEN, last_seen=WHEN, recipients=["b@ourcorp.example"], client_ips=["192.0.2.10"],
                      dnsbl_zone=None, evidence=[evidence], next_steps=[])
    base = dict(target_kind="address", target_value="a@x.example", since=None, until=WHEN, summary={"rejected": 1},
                verdict=Verdict("gateway_reputation", "blocked", "Mail from <a@x.example> & co was refused"),
                findings=[finding], approved_sender=False, approval=None, caveats=[], newest_event=WHEN,
                suggestions=["Check the spelling, or ask about the whole domain: `why x.example`."])
    base.update(kw)
    return Diagnosis(**base)


def test_diagnosis_blocks_follow_the_rules() -> None:
    blocks = render_blocks(_diagnosis())
    assert violations(blocks) == []
    assert all(b["elements"] for b in blocks if b["type"] == "context")  # no caveats, no next steps: no block
    text = json.dumps(blocks)
    assert "&lt;a@x.example&gt; &amp; co" in text and "<a@x.example>" not in text
    assert "`/bounce x.example`" in text and "`why " not in text
    assert f"<!date^{int(WHEN.timestamp())}^" in text and "2026-12-06 14:03:22" not in text


def test_top_level_text_is_escaped(monkeypatch) -> None:
    import bot.answers as answers

    monkeypatch.setattr(answers, "diagnose", lambda *a, **k: _diagnosis())
    answer: Answer = diagnosis_answer(None, None, settings=None)  # type: ignore[arg-type]
    assert answer.text == "Mail from &lt;a@x.example&gt; &amp; co was refused"
