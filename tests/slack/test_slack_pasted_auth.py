"""A bounce pasted (or attached) in Slack that was refused for authentication: the answer carries the live
checks' verdicts, from a real NSD (tests/auth/bounces.py), over real HTTP against the fake Web API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.store import Store
from tests.auth import bounces as b
from tests.auth.nsd import Nsd, serving
from tests.slack.fakes import AppServer, FakeSlackAPI, direct, serve_app, test_settings
from tests.slack.limits import assert_calls_within_limits

UNAUTHENTICATED = b.postfix_dsn(b.GMAIL_UNAUTHENTICATED, b.original(
    return_path=f"anna@{b.SENDER}", signatures=((b.SENDER, "s2024"), (b.SENDER, "gone2023"))))


@pytest.fixture(scope="module")
def paste_dns() -> Iterator[Nsd]:
    with serving(b.ZONES) as server:
        yield server


@pytest.fixture
def live_server(db_url: str, fake: FakeSlackAPI, slack_store: Store, paste_dns: Nsd) -> Iterator[AppServer]:
    """The app with live checks, its resolver the NSD (as BOUNCEBOT_DNS_* would set it)."""
    settings = test_settings(db_url, fake, dns_nameservers=("127.0.0.1",), dns_port=paste_dns.port,
                             dns_timeout=0.5)
    with serve_app(settings, store=slack_store, live=True) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield served


def slack_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_pasted_bounce_gets_the_authentication_verdicts(live_server: AppServer, fake: FakeSlackAPI) -> None:
    started = time.monotonic()
    reply = live_server.send(direct(slack_escaped(UNAUTHENTICATED)))
    assert reply.status == 200 and time.monotonic() - started < 1.0, "acknowledged before the DNS checks"
    (post,) = fake.wait_for("chat.postMessage")
    texts = [block["text"]["text"] for block in post.json("blocks") if block["type"] == "section"]
    assert "authfailure" in texts[1]
    auth = texts[-1]
    assert auth.startswith(f"*Authentication and DNS (live: header From {b.SENDER}, sending IP {b.SENT_FROM}")
    assert ":red_circle: *SPF* SPF fail" in auth and f"`ip4:{b.SENT_FROM}`" in auth
    assert f"no DKIM key record at gone2023._domainkey.{b.SENDER}" in auth
    assert ":white_check_mark: *DKIM*" in auth and "p=reject" in auth
    assert f"aligned with header From {b.SENDER}" in auth
    assert_calls_within_limits(fake.calls)


def test_attached_bounce_file_gets_them_too(live_server: AppServer, fake: FakeSlackAPI) -> None:
    reply = f"450 4.7.25 Client host rejected: cannot find your hostname, [{b.PTR_NO_FCRDNS}]"
    data = b.postfix_dsn(reply, b.original(), recipient=f"sales@{b.ESP}", status="4.7.25", remote=f"mx.{b.ESP}",
                         stage="RCPT TO").replace("\n", "\r\n").encode()
    shared = fake.add_file("bounce.eml", data, "message/rfc822")
    live_server.send(direct("", subtype="file_share", files=[{"id": shared["id"], "name": "bounce.eml"}]))
    (post,) = fake.wait_for("chat.postMessage")
    blocks = json.dumps(post.json("blocks"))
    assert "requireptr" in blocks and f"does not resolve back to {b.PTR_NO_FCRDNS}" in blocks
    assert_calls_within_limits(fake.calls)
