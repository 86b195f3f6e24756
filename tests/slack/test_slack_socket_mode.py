"""`serve --socket-mode`: the same app over a WebSocket (local Socket Mode endpoint), acked through envelopes."""

from __future__ import annotations

import dataclasses
import json
import threading

from bot.app import build_app, serve_socket_mode
from tests.slack.fake_socket import FakeSocketMode
from tests.slack.fakes import APP_TOKEN
from tests.slack.seed import BLOCKED, seed


def test_slash_command_over_socket_mode(settings, slack_store, fake) -> None:
    seed(slack_store)
    socket_server = FakeSocketMode()
    fake.socket_url = socket_server.url
    socket_settings = dataclasses.replace(settings, slack_signing_secret=None, slack_app_token=APP_TOKEN)
    app = build_app(socket_settings, store=slack_store, checker_factory=lambda: None, socket_mode=True)
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
        (post,) = fake.wait_for("chat.postMessage")
        assert post.params["channel"] == "CSOCKET" and "gateway_reputation" in json.dumps(post.json("blocks"))
    finally:
        stop.set()
        runner.join(timeout=15)
        socket_server.stop()
    assert not runner.is_alive()
