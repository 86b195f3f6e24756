"""Case forwarding against real local servers: an HTTP server for the webhook, aiosmtpd for the e-mail."""

from __future__ import annotations

import contextlib
import email
import json
import threading
import time
from collections.abc import Iterator
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot import audit, case_forwarding, cases
from bot.store import Store
from tests.records.helpers import settings
from tests.support import free_port


class Webhook:
    """A ticketing system's webhook on 127.0.0.1: records each POST, answers `status`, or stalls."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 201
        self.stall = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"path": self.path, "type": self.headers["Content-Type"],
                                      "body": json.loads(body)})
                time.sleep(hook.stall)
                # The client of a stalled request has given up already: its closed socket is expected.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(hook.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tickets"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler: keeps each message; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _case(session):
    case, _ = cases.open_case(session, target="alice@partner.example", title="Blocked by reputation",
                              description="Listed on zen", snapshot={"verdict": "gateway_reputation"},
                              opened_by="U1", request_key="k", channel="C1", thread_ts="1.0")
    return case


def test_webhook_receives_the_case_as_json(store: Store, webhook: Webhook):
    with store.session() as session:
        case = _case(session)
        results = case_forwarding.forward_case(session, case=case, settings=settings(case_webhook_url=webhook.url),
                                               actor="U1")
        assert results == [case_forwarding.ForwardResult("webhook", True, "HTTP 201")]
        (got,) = webhook.received
        assert got["path"] == "/tickets" and got["type"].startswith("application/json")
        assert got["body"]["type"] == "bouncebot.case"
        assert got["body"]["case"]["id"] == case.id
        assert got["body"]["case"]["snapshot"] == {"verdict": "gateway_reputation"}
        entry = audit.list_entries(session, action="case.forward")[0]
        assert (entry.outcome, entry.detail["to"]) == ("done", "webhook")


def test_webhook_error_status_is_a_clear_failure_and_the_case_stays(store: Store, webhook: Webhook):
    webhook.status = 503
    with store.session() as session:
        case = _case(session)
        (result,) = case_forwarding.forward_case(session, case=case,
                                                 settings=settings(case_webhook_url=webhook.url), actor="U1")
        assert not result.ok and "HTTP 503" in result.detail
        assert cases.get_case(session, case.id) is not None
        assert audit.list_entries(session, action="case.forward")[0].outcome == "failed"


def test_webhook_that_does_not_answer_times_out(store: Store, webhook: Webhook):
    webhook.stall = 1.5
    with store.session() as session:
        case = _case(session)
        (result,) = case_forwarding.forward_case(session, case=case, settings=settings(case_webhook_url=webhook.url),
                                                 actor="U1", timeout=0.3)
    assert not result.ok and ("did not answer" in result.detail or "timed out" in result.detail)


def test_unreachable_webhook_and_bad_scheme(store: Store):
    with store.session() as session:
        case = _case(session)
        url = f"http://127.0.0.1:{free_port()}/x"  # nothing listens there
        (result,) = case_forwarding.forward_case(session, case=case, settings=settings(case_webhook_url=url),
                                                 actor="U1", timeout=2)
        assert not result.ok and "unreachable" in result.detail
        with pytest.raises(case_forwarding.ForwardError, match="http"):
            case_forwarding.post_webhook(case, url="file:///etc/passwd")


def test_email_is_sent_through_the_smtp_server(store: Store, smtp: tuple[Mailbox, int]):
    box, port = smtp
    s = settings(case_email_to="tickets@helpdesk.example, second@helpdesk.example", smtp_host="127.0.0.1",
                 smtp_port=port, smtp_from="bouncebot@ours.example")
    with store.session() as session:
        case = _case(session)
        (result,) = case_forwarding.forward_case(session, case=case, settings=s, actor="U1")
    assert result.ok and "tickets@helpdesk.example" in result.detail
    ((mail_from, rcpts, msg),) = box.messages
    assert mail_from == "bouncebot@ours.example"
    assert rcpts == ["tickets@helpdesk.example", "second@helpdesk.example"]
    assert msg["Subject"] == f"[bouncebot case #{case.id}] Blocked by reputation"
    assert "Target: alice@partner.example" in msg.get_body(("plain",)).get_content()
    (attachment,) = list(msg.iter_attachments())
    assert json.loads(attachment.get_content()) == {"verdict": "gateway_reputation"}


def test_email_refused_by_the_server_is_a_clear_failure(store: Store, smtp: tuple[Mailbox, int]):
    _box, port = smtp
    s = settings(case_email_to="nobody@refused.example", smtp_host="127.0.0.1", smtp_port=port)
    with store.session() as session:
        (result,) = case_forwarding.forward_case(session, case=_case(session), settings=s, actor="U1")
    assert not result.ok and "refused" in result.detail and "nobody@refused.example" in result.detail


def test_both_targets_and_an_unreachable_smtp_server(store: Store, webhook: Webhook):
    s = settings(case_webhook_url=webhook.url, case_email_to="t@helpdesk.example", smtp_host="127.0.0.1",
                 smtp_port=free_port())
    with store.session() as session:
        results = case_forwarding.forward_case(session, case=_case(session), settings=s, actor="U1", timeout=2)
        assert [(r.target, r.ok) for r in results] == [("webhook", True), ("email", False)]
        assert "unreachable" in results[1].detail
        outcomes = sorted(e.outcome for e in audit.list_entries(session, action="case.forward"))
        assert outcomes == ["done", "failed"]


def test_nothing_configured_forwards_nothing(store: Store):
    with store.session() as session:
        assert case_forwarding.forward_case(session, case=_case(session), settings=settings(), actor="U1") == []
