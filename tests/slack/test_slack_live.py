"""Re-check blacklists against a real rbldnsd: the message is updated in place with the live listings."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.events import TrackingEvent
from bot.render import ids
from bot.timeutil import utcnow
from storage import queries
from tests.blacklists.rbldnsd import LISTED_IP, rbldnsd_server  # noqa: F401  (pytest fixture)
from tests.slack.fakes import AppServer, block_action, serve_app, slash_command
from tests.slack.limits import assert_calls_within_limits

SENDER = "listed@spammy.example"
MESSAGE_TS = "1700000000.000555"


@pytest.fixture
def live_server(settings, slack_store, fake, rbldnsd_server) -> Iterator[AppServer]:  # noqa: F811
    row = TrackingEvent(time=utcnow() - timedelta(hours=4), source="test", source_key="live-1", direction="inbound",
                        disposition="rejected", sender=SENDER, recipient="bob@ourcorp.example", client_ip=LISTED_IP,
                        smtp_code=554, enhanced_status="5.7.1", rejected_by="gateway", reason="blocked",
                        cause="gateway_reputation", reply_text="Client host rejected: poor reputation")
    with slack_store.session() as session:
        queries.insert_events(session, [row.as_row()])
        session.commit()
    live = dataclasses.replace(settings, dns_nameservers=("127.0.0.1",), dns_port=rbldnsd_server.port,
                               dns_timeout=1.0)
    with serve_app(live, store=slack_store, live=True) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield served


def test_recheck_blacklists_updates_the_message_in_place(live_server, fake) -> None:
    value = json.dumps({"kind": "address", "value": SENDER})
    live_server.send(block_action(ids.ACTION_RECHECK_BLACKLISTS, value, message_ts=MESSAGE_TS))
    (update,) = fake.wait_for("chat.update", timeout=20)
    assert update.params["ts"] == MESSAGE_TS and update.params["channel"] == "CSUPPORT"
    blocks = json.dumps(update.json("blocks"))
    assert LISTED_IP in blocks and "zen.spamhaus.org" in blocks and "Block lists (live)" in blocks
    assert_calls_within_limits(fake.calls)


def test_slash_command_diagnosis_includes_live_listings(live_server, fake) -> None:
    live_server.send(slash_command(SENDER, response_url=fake.response_url()))
    (post,) = fake.wait_for("chat.postMessage", timeout=20)
    assert "zen.spamhaus.org" in json.dumps(post.json("blocks"))


def test_show_events_posts_more_evidence_in_the_thread(live_server, fake) -> None:
    value = json.dumps({"kind": "address", "value": SENDER})
    live_server.send(block_action(ids.ACTION_SHOW_EVENTS, value, message_ts=MESSAGE_TS))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == MESSAGE_TS
    text = json.dumps(post.json("blocks"))
    assert "poor reputation" in text and LISTED_IP in text
    assert_calls_within_limits(fake.calls)
