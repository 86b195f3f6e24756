"""/bounce report over real HTTP: signed request, acknowledged at once, posted with its chart through the fake
Slack Web API; where the bot may not post, the person gets it through the response URL."""

from __future__ import annotations

import json

import pytest

from tests.slack.conftest import fake, server, settings, slack_store  # noqa: F401 - the Slack fixtures
from tests.slack.fakes import slash_command
from tests.slack.limits import assert_calls_within_limits, violations
from tests.slack.seed import seed


@pytest.fixture
def seeded(server, slack_store):  # noqa: F811
    seed(slack_store)
    return server


def _cmd(text, fake):  # noqa: F811
    return slash_command(text, response_url=fake.response_url())


def test_report_is_acked_then_posted_with_its_chart(seeded, fake) -> None:  # noqa: F811
    reply = seeded.send(_cmd("report today", fake))
    assert reply.status == 200 and b"the traffic report" in reply.body
    (post,) = fake.wait_for("chat.postMessage", timeout=30)
    assert post.params["channel"] == "CSUPPORT"
    blocks = post.json("blocks")
    assert violations(blocks) == []
    text = json.dumps(blocks)
    assert "Mail traffic" in text and "Rejected" in text and "Per hour" in text
    assert "blocked" in text  # the day's DNSBL reject, grouped by reason
    (note,) = fake.wait_for("response_url", timeout=30)
    assert "traffic report" in note.params["text"] and "<#CSUPPORT>" in note.params["text"]
    methods = fake.methods()
    assert methods.index("files.getUploadURLExternal") < methods.index("files.completeUploadExternal")
    assert_calls_within_limits(fake.calls)


def test_where_the_bot_may_not_post_the_report_comes_through_the_response_url(seeded, fake) -> None:  # noqa: F811
    fake.handlers["chat.postMessage"] = lambda params: {"ok": False, "error": "not_in_channel"}
    seeded.send(_cmd("report today", fake))
    (answer,) = fake.wait_for("response_url", timeout=30)
    assert answer.params["response_type"] == "ephemeral"
    assert "Mail traffic" in json.dumps(answer.params["blocks"])
    assert violations(answer.params["blocks"]) == []


@pytest.mark.parametrize("text", ["report 2026-13-45", "report today please"])
def test_bad_report_input_gets_ephemeral_usage(server, fake, text) -> None:  # noqa: F811
    reply = server.send(_cmd(text, fake))
    assert reply.status == 200 and b"/bounce report" in reply.body
    fake.settle()
    assert fake.calls_to("chat.postMessage") == []
