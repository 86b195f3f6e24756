"""Mentions, direct messages, pasted and attached bounces, App Home, and deduplicated event retries."""

from __future__ import annotations

import json
import time

import pytest

from bot import approvals, cases
from tests.slack.conftest import APPROVER
from tests.slack.fakes import BOT_ID, BOT_USER_ID, DM, THREAD, SignedRequest, direct, event_callback, signed_headers
from tests.slack.limits import assert_calls_within_limits
from tests.slack.seed import BLOCKED, BLOCKED_IP, seed, yesterday_failures

OTHER_BOT = "BOTHER01"

#: A DSN as Postfix sends it (written for these tests), CRLF-free as Slack delivers pasted text.
BOUNCE = """From: MAILER-DAEMON@mx.ourcorp.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: carol@ourcorp.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

<nobody@far.example>: host mx.far.example[203.0.113.5] said: 550 5.1.1 <nobody@far.example>:
    Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.ourcorp.example

Final-Recipient: rfc822; nobody@far.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@far.example>: Recipient address rejected: User unknown

--B1--
"""


@pytest.fixture
def seeded(server, slack_store):
    seed(slack_store)
    return server


def mention(text: str, **extra):
    return event_callback({"type": "app_mention", "user": "UALICE", "text": text, "ts": THREAD,
                           "channel": "CSUPPORT", "event_ts": THREAD, **extra})


def test_mention_with_slack_markup_is_answered_in_the_thread(seeded, fake) -> None:
    text = f"<@{BOT_USER_ID}> why did mail from <mailto:{BLOCKED}|{BLOCKED}> bounce?"
    assert seeded.send(mention(text)).status == 200
    (post,) = fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "CSUPPORT" and post.params["thread_ts"] == THREAD
    blocks = json.dumps(post.json("blocks"))
    assert BLOCKED in blocks and "gateway_reputation" in blocks
    assert_calls_within_limits(fake.calls)


def test_mention_inside_a_thread_answers_in_that_thread(seeded, fake) -> None:
    seeded.send(mention(f"<@{BOT_USER_ID}> and {BLOCKED_IP}?", thread_ts="1700000000.000001"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1700000000.000001"
    assert BLOCKED_IP in json.dumps(post.json("blocks"))


def test_direct_message_with_a_domain_link(seeded, fake) -> None:
    seeded.send(direct("what happened to <http://partner.example|partner.example> last 7d"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.params["channel"] == DM
    assert "partner.example" in json.dumps(post.json("blocks"))


def test_message_without_a_target_gets_help(seeded, fake) -> None:
    seeded.send(direct("hello there"))
    (post,) = fake.wait_for("chat.postMessage")
    assert "Ask me about a sender address" in post.params["text"]


def test_bot_messages_and_edits_are_ignored(seeded, fake) -> None:
    seeded.send(direct(f"why {BLOCKED}", bot_id=OTHER_BOT))
    seeded.send(direct(f"why {BLOCKED}", subtype="message_changed"))
    seeded.send(event_callback({"type": "message", "channel_type": "channel", "user": "UALICE",
                                "text": BLOCKED, "ts": THREAD, "channel": "CSUPPORT"}))
    fake.settle(0.5)
    assert fake.calls_to("chat.postMessage") == []


def test_own_messages_are_ignored(seeded, fake) -> None:
    seeded.send(direct(f"why {BLOCKED}", bot_id=BOT_ID, user=BOT_USER_ID))
    fake.settle(0.5)
    assert fake.calls_to("chat.postMessage") == []


def test_event_retry_is_answered_once(seeded, fake) -> None:
    first = mention(f"<@{BOT_USER_ID}> {BLOCKED}", )
    event_id = json.loads(first.body)["event_id"]
    assert seeded.send(first).status == 200
    fake.wait_for("chat.postMessage")
    # Slack retries with the same event_id, a new timestamp (so a new signature) and X-Slack-Retry-Num.
    time.sleep(1.1)
    retry = mention(f"<@{BOT_USER_ID}> {BLOCKED}", )
    retry_body = json.loads(retry.body)
    retry_body["event_id"] = event_id
    body = json.dumps(retry_body)
    again = SignedRequest(body, signed_headers(body, "application/json"))
    reply = seeded.send(again, extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert reply.status == 200
    fake.settle(0.5)
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_pasted_bounce_is_explained(seeded, fake) -> None:
    seeded.send(direct(BOUNCE.replace("<", "&lt;").replace(">", "&gt;")))
    (post,) = fake.wait_for("chat.postMessage")
    blocks = json.dumps(post.json("blocks"))
    assert "nobody@far.example" in blocks and "userunknown" in blocks and "invalid_recipient" in blocks
    assert post.params["thread_ts"] == THREAD
    assert_calls_within_limits(fake.calls)


def test_attached_bounce_file_is_downloaded_and_explained(seeded, fake) -> None:
    shared = fake.add_file("bounce.eml", BOUNCE.replace("\n", "\r\n").encode(), "message/rfc822")
    seeded.send(direct("", subtype="file_share", files=[{"id": shared["id"], "name": "bounce.eml"}]))
    (post,) = fake.wait_for("chat.postMessage")
    assert "userunknown" in json.dumps(post.json("blocks"))
    (info,) = fake.calls_to("files.info")
    assert info.params["file"] == shared["id"]
    (download,) = fake.calls_to("download")
    assert download.headers["authorization"] == f"Bearer {fake.token}"


def test_attached_file_that_is_not_a_bounce(seeded, fake) -> None:
    shared = fake.add_file("notes.txt", b"just some notes, nothing bounced here")
    seeded.send(direct("", subtype="file_share", files=[{"id": shared["id"], "name": "notes.txt"}]))
    (post,) = fake.wait_for("chat.postMessage")
    assert "notes.txt" in post.params["text"]


def test_app_home(server, fake, slack_store) -> None:
    rows = seed(slack_store)
    with slack_store.session() as session:
        approvals.approve(session, pattern="trusted.example", reason="vendor", actor=APPROVER)
        cases.open_case(session, target=BLOCKED, title="Partner blocked", opened_by="UALICE")
    server.send(event_callback({"type": "app_home_opened", "user": APPROVER, "channel": "DHOME", "tab": "home",
                                "event_ts": THREAD}))
    (published,) = fake.wait_for("views.publish")
    assert published.params["user_id"] == APPROVER
    view = published.json("view")
    text = json.dumps(view)
    assert view["type"] == "home"
    assert "trusted.example" in text and "no expiry" in text and "bouncebot.remove_approval" in text
    assert "Partner blocked" in text
    assert "Blocked traffic on" in text and f"(UTC): {yesterday_failures(rows)} " in text
    assert_calls_within_limits(fake.calls)
