"""Two bot instances on one store behind a real round-robin HTTP front (issue 8's scale-out shape):
every command is answered once, every event once even when Slack retries it to the other instance."""

from __future__ import annotations

import itertools
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.store import Store
from tests.slack.fakes import event_callback, send, serve_app, slash_command
from tests.slack.seed import BLOCKED, seed

FORWARDED = ("Content-Type", "X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Slack-Retry-Num",
             "X-Slack-Retry-Reason")


class RoundRobinFront:
    """A minimal HTTP load balancer on 127.0.0.1: each request goes to the next backend in turn."""

    def __init__(self, backends: list[str]) -> None:
        self.cycle = itertools.cycle(backends)
        self.lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with front.lock:
                    backend = next(front.cycle)
                    front.sent[backend] += 1
                headers = {k: v for k in FORWARDED if (v := self.headers.get(k))}
                request = urllib.request.Request(  # noqa: S310 - loopback backends
                    backend + self.path, data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback backends
                        status, payload = reply.status, reply.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def front(settings, slack_store: Store) -> Iterator[RoundRobinFront]:
    seed(slack_store)
    with serve_app(settings, store=slack_store) as one, serve_app(settings, store=slack_store) as two:
        balancer = RoundRobinFront([one.url.rsplit("/slack/events", 1)[0], two.url.rsplit("/slack/events", 1)[0]])
        yield balancer
        balancer.stop()


def test_commands_and_retried_events_are_answered_once_across_instances(front: RoundRobinFront, fake) -> None:
    commands = 6
    for n in range(commands):
        reply = send(front.url, slash_command(BLOCKED, channel=f"CRR{n}", response_url=fake.response_url()))
        assert reply.status == 200 and b"Looking into" in reply.body
    events = [{"type": "app_mention", "user": "UALICE", "text": f"<@UBOT0001> why {BLOCKED}", "ts": f"7.{n}",
               "channel": f"CEV{n}"} for n in range(3)]
    for n, event in enumerate(events):
        first = event_callback(event, event_id=f"EvRR{n:08d}")
        assert send(front.url, first).status == 200
    time.sleep(1.1)  # Slack's retries come later, signed anew, and land on the other instance
    for n, event in enumerate(events):
        retry = event_callback(event, event_id=f"EvRR{n:08d}")
        assert send(front.url, retry, extra_headers={"X-Slack-Retry-Num": "1"}).status == 200
    fake.wait_for("chat.postMessage", commands + len(events), timeout=60)
    fake.settle(1.0)
    channels = Counter(c.params["channel"] for c in fake.calls_to("chat.postMessage"))
    assert channels == Counter({**{f"CRR{n}": 1 for n in range(commands)}, **{f"CEV{n}": 1 for n in range(3)}})
    assert len(front.sent) == 2 and min(front.sent.values()) >= 5  # both instances really served
