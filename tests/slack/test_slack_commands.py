"""/bounce over real HTTP: acknowledged at once, answered through the fake Web API."""

from __future__ import annotations

import json

import pytest

from tests.slack.conftest import APPROVER
from tests.slack.limits import assert_calls_within_limits
from tests.slack.seed import BLOCKED, HEAVY_DOMAIN, seed


@pytest.fixture
def seeded(server, slack_store):
    seed(slack_store)
    return server


def _blocks_text(call) -> str:
    return json.dumps(call.json("blocks"))


@pytest.mark.parametrize("text", ["help", "HELP"])
def test_help_is_the_ack_itself(server, fake, text) -> None:
    reply = server.send(_cmd(text, fake))
    assert reply.status == 200
    assert b"/bounce TARGET [since]" in reply.body
    fake.settle()
    assert fake.calls == []


@pytest.mark.parametrize("text,error", [
    ("", b"nothing to look up"),
    ("not a target at all", b"give one target"),
    ("%%%", b"not something I can look up"),
    ("alice@partner.example yesterdayish", b"not a duration or a date"),
    ("cases please", b"takes no arguments"),
    ("digest 2026-13-45", b"not a date"),
])
def test_bad_input_gets_ephemeral_usage(server, fake, text, error) -> None:
    reply = server.send(_cmd(text, fake))
    assert reply.status == 200
    assert error in reply.body and b"/bounce TARGET [since]" in reply.body
    fake.settle()
    assert fake.calls_to("chat.postMessage") == []


def _cmd(text, fake, **kw):
    from tests.slack.fakes import slash_command

    return slash_command(text, response_url=fake.response_url(), **kw)


def test_diagnosis_is_acked_then_posted(seeded, fake) -> None:
    reply = seeded.send(_cmd(BLOCKED, fake))
    assert reply.status == 200 and b"Looking into" in reply.body
    (post,) = fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "CSUPPORT"
    text = _blocks_text(post)
    assert BLOCKED in text and "gateway_reputation" in text and "zen.spamhaus.org" in text
    assert "bouncebot.approve_sender" in text  # the buttons are there
    assert assert_calls_within_limits(fake.calls) == 1


def test_diagnosis_with_a_window(seeded, fake) -> None:
    seeded.send(_cmd(f"{BLOCKED} 12h", fake))
    (post,) = fake.wait_for("chat.postMessage")
    summary = _blocks_text(post)
    assert "rejected 1" in summary or "1 time" in summary  # only the rejection 5 hours ago is in the window


def test_unknown_target_says_so(seeded, fake) -> None:
    seeded.send(_cmd("nobody@nowhere.example", fake))
    (post,) = fake.wait_for("chat.postMessage")
    assert "No mail" in _blocks_text(post)


def test_large_diagnosis_stays_within_limits(seeded, fake) -> None:
    seeded.send(_cmd(HEAVY_DOMAIN, fake))
    fake.wait_for("chat.postMessage")
    assert assert_calls_within_limits(fake.calls) == 1


def test_not_a_member_answers_through_response_url(seeded, fake) -> None:
    fake.handlers["chat.postMessage"] = lambda params: {"ok": False, "error": "not_in_channel"}
    seeded.send(_cmd(BLOCKED, fake))
    (answer,) = fake.wait_for("response_url")
    assert answer.params["response_type"] == "in_channel"
    assert BLOCKED in json.dumps(answer.params["blocks"])


def test_rate_limited_post_is_retried_after_retry_after(seeded, fake) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    seeded.send(_cmd(BLOCKED, fake))
    fake.wait_for("chat.postMessage", timeout=15)
    methods = fake.methods()
    assert methods.index("chat.postMessage#429") < methods.index("chat.postMessage")
    limited, posted = fake.calls_to("chat.postMessage#429")[0], fake.calls_to("chat.postMessage")[0]
    assert posted.at - limited.at >= 1.0  # waited as told


def test_approved_list_with_remove_buttons_for_approvers(seeded, fake, slack_store) -> None:
    from bot import approvals

    with slack_store.session() as session:
        approvals.approve(session, pattern="trusted@partner.example", reason="vendor", actor=APPROVER)
    seeded.send(_cmd("approved", fake, user=APPROVER))
    (listing,) = fake.wait_for("response_url")
    assert listing.params["response_type"] == "ephemeral"
    text = json.dumps(listing.params["blocks"])
    assert "trusted@partner.example" in text and "bouncebot.remove_approval" in text
    fake.clear()
    seeded.send(_cmd("approved", fake, user="UNOBODY"))
    (listing,) = fake.wait_for("response_url")
    text = json.dumps(listing.params["blocks"])
    assert "trusted@partner.example" in text and "bouncebot.remove_approval" not in text


def test_cases_list(seeded, fake, slack_store) -> None:
    from bot import cases

    with slack_store.session() as session:
        cases.open_case(session, target=BLOCKED, title="Partner blocked", opened_by="UALICE")
    seeded.send(_cmd("cases", fake))
    (listing,) = fake.wait_for("response_url")
    assert "Partner blocked" in json.dumps(listing.params["blocks"])
    assert_calls_within_limits(fake.calls)


def test_failure_is_told_not_hidden(seeded, fake) -> None:
    """A broken diagnosis ends as a short ephemeral note, never silence."""
    fake.handlers["chat.postMessage"] = lambda params: {"ok": False, "error": "invalid_blocks"}
    seeded.send(_cmd(BLOCKED, fake))
    (note,) = fake.wait_for("response_url")
    assert "could not finish the diagnosis" in note.params["text"]


def test_digest_on_demand_posts_message_and_chart(seeded, fake) -> None:
    from datetime import timedelta

    from bot.timeutil import utcnow

    day = (utcnow() - timedelta(days=1)).date().isoformat()
    reply = seeded.send(_cmd(f"digest {day}", fake))
    assert reply.status == 200 and b"the digest" in reply.body
    (post,) = fake.wait_for("chat.postMessage", timeout=30)
    assert post.params["channel"] == "CSUPPORT"
    (note,) = fake.wait_for("response_url", timeout=30)
    assert "is posted in <#CSUPPORT>" in note.params["text"]
    assert BLOCKED in json.dumps(post.json("blocks"))  # the top blocked sender of that day
    methods = fake.methods()
    assert methods.index("files.getUploadURLExternal") < methods.index("upload") < methods.index(
        "files.completeUploadExternal")
    assert_calls_within_limits(fake.calls)


def test_digest_why_button_posts_the_diagnosis_in_the_thread(seeded, fake) -> None:
    from tests.slack.fakes import block_action

    value = json.dumps({"kind": "address", "value": BLOCKED})
    seeded.send(block_action("bouncebot.digest_why", value, channel="CDIGEST", message_ts="1700000000.000900"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "CDIGEST" and post.params["thread_ts"] == "1700000000.000900"
    assert "gateway_reputation" in _blocks_text(post)


def test_button_with_a_broken_value_is_told(seeded, fake) -> None:
    from tests.slack.fakes import block_action

    seeded.send(block_action("bouncebot.show_events", "not json"))
    (note,) = fake.wait_for("chat.postEphemeral")
    assert "carries no target" in note.params["text"]


def test_the_acknowledgement_hands_off_without_copying_the_request(seeded, fake, monkeypatch) -> None:
    """bolt deep-copies the whole request for a lazy listener (~40% of an ack's CPU); /bounce hands off its
    parsed command instead, and the answer still arrives."""
    from slack_bolt.listener import thread_runner

    copies: list[object] = []
    real_copy = thread_runner.create_copy
    monkeypatch.setattr(thread_runner, "create_copy", lambda value: copies.append(value) or real_copy(value))
    reply = seeded.send(_cmd(BLOCKED, fake))
    assert reply.status == 200 and b"Looking into" in reply.body
    (post,) = fake.wait_for("chat.postMessage")
    assert BLOCKED in _blocks_text(post)
    assert copies == []
