"""`serve --socket-mode`: the same app over a WebSocket (local Socket Mode endpoint), acked through envelopes."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest

from bot.app import build_app, serve_socket_mode
from tests.slack.fake_socket import FakeSocketMode
from tests.slack.fakes import APP_TOKEN, fake_slack
from tests.slack.seed import BLOCKED, seed


@pytest.mark.parametrize("processes", [0, 1], ids=["in-process", "worker-posts"])
def test_slash_command_over_socket_mode(settings, slack_store, fake, processes) -> None:
    """Acked over the socket; the diagnosis posted from this process or (as `serve --socket-mode` runs it)
    from a diagnosis worker process."""
    seed(slack_store)
    socket_server = FakeSocketMode()
    fake.socket_url = socket_server.url
    socket_settings = dataclasses.replace(settings, slack_signing_secret=None, slack_app_token=APP_TOKEN)
    app = build_app(socket_settings, store=slack_store, checker_factory=lambda: None, socket_mode=True,
                    diagnosis_processes=processes)
    stop = threading.Event()
    runner = threading.Thread(target=serve_socket_mode, args=(app, socket_settings), kwargs={"stop": stop},
                              daemon=True)
    runner.start()
    try:
        socket_server.wait_connected()
        (opened,) = fake.wait_for("apps.connections.open")
        assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
        command = {"command": "/bounce", "text": BLOCKED, "user_id": "UALICE", "channel_id": "CSOCKET",
                   "team_id": "T0TEST", "response_url": fake.response_url(), "trigger_id": "1.2.3",
                   "api_app_id": "A0TEST"}
        socket_server.push("slash_commands", command, envelope_id="env-1", accepts_response_payload=True)
        ack = socket_server.wait_ack("env-1")
        assert "Looking into" in json.dumps(ack.get("payload"))
        (post,) = fake.wait_for("chat.postMessage", timeout=30)
        assert post.params["channel"] == "CSOCKET" and "gateway_reputation" in json.dumps(post.json("blocks"))
    finally:
        stop.set()
        runner.join(timeout=15)
        socket_server.stop()
    assert not runner.is_alive()


def test_event_redelivered_to_another_socket_mode_instance_is_answered_once(settings, slack_store, fake) -> None:
    """Several Socket Mode connections on one store: Slack may redeliver an event to another connection; the
    event_id row in the shared store decides, so one answer in all."""
    seed(slack_store)
    event = {"type": "app_mention", "user": "UALICE", "text": f"<@UBOT0001> why {BLOCKED}", "ts": "9.1",
             "channel": "CSOCK2"}
    envelope = {"token": "legacy-verification-token", "team_id": "T0TEST", "api_app_id": "A0TEST", "event": event,
                "type": "event_callback", "event_id": "EvSOCKET0001", "event_time": 1700000000}
    with fake_slack() as other_fake:
        instances = []
        for api in (fake, other_fake):
            server = FakeSocketMode()
            api.socket_url = server.url
            conf = dataclasses.replace(settings, slack_signing_secret=None, slack_app_token=APP_TOKEN,
                                       slack_api_url=api.base_url)
            app = build_app(conf, store=slack_store, checker_factory=lambda: None, socket_mode=True)
            stop = threading.Event()
            runner = threading.Thread(target=serve_socket_mode, args=(app, conf), kwargs={"stop": stop},
                                      daemon=True)
            runner.start()
            instances.append((server, stop, runner))
        try:
            for n, (server, _, _) in enumerate(instances):
                server.wait_connected()
                server.push("events_api", envelope, envelope_id=f"env-ev-{n}")
                server.wait_ack(f"env-ev-{n}")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (fake.calls_to("chat.postMessage")
                                                        or other_fake.calls_to("chat.postMessage")):
                time.sleep(0.1)
            posts = []
            for api in (fake, other_fake):
                api.settle(1.5)
                posts += api.calls_to("chat.postMessage")
        finally:
            for server, stop, runner in instances:
                stop.set()
                runner.join(timeout=15)
                server.stop()
    assert len(posts) == 1 and posts[0].params["channel"] == "CSOCK2"
