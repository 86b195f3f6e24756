"""Signed requests only: a forged signature, an expired timestamp and a replay are refused with 401."""

from __future__ import annotations

import time

from bot.store import Store
from tests.slack.fakes import SIGNING_SECRET, get, serve_app, signed_headers, slash_command


def test_forged_signature_is_refused(server, fake) -> None:
    request = slash_command("help", secret="not-the-secret")
    assert server.send(request).status == 401
    assert server.send(slash_command("help")).status == 200


def test_tampered_body_is_refused(server) -> None:
    request = slash_command("help")
    request.body = request.body.replace("help", "cases")
    assert server.send(request).status == 401


def test_missing_signature_is_refused(server) -> None:
    request = slash_command("help")
    del request.headers["X-Slack-Signature"]
    assert server.send(request).status == 401


def test_expired_timestamp_is_refused(server) -> None:
    old = int(time.time()) - 6 * 60
    assert server.send(slash_command("help", timestamp=old)).status == 401
    # inside the 5-minute window it is accepted
    assert server.send(slash_command("help", timestamp=int(time.time()) - 4 * 60)).status == 200


def test_replayed_request_is_refused(server, fake) -> None:
    request = slash_command("cases", response_url=fake.response_url())
    assert server.send(request).status == 200
    replay = server.send(request)
    assert replay.status == 401
    fake.wait_for("response_url")  # the original's answer
    fake.settle()
    assert len(fake.calls_to("response_url")) == 1  # the replay did no work


def test_replay_is_refused_by_another_instance(settings, slack_store: Store, fake) -> None:
    """The guard lives in the database: a second instance on the same store refuses the replay too."""
    request = slash_command("help")
    with serve_app(settings, store=slack_store) as first, serve_app(settings, store=slack_store) as second:
        assert first.send(request).status == 200
        assert second.send(request).status == 401


def test_signature_helper_matches_slack_sdk() -> None:
    """Our signing helper signs exactly as Slack does (checked with slack_sdk's verifier)."""
    from slack_sdk.signature import SignatureVerifier

    body = "token=x&text=help"
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not verifier.is_valid(body + "x", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])


def test_health_endpoint(server) -> None:
    reply = get(server.health_url)
    assert reply.status == 200 and reply.json() == {"ok": True, "store": "ok"}
    assert get(server.url.replace("/slack/events", "/nope")).status == 404


def test_health_reports_an_unreachable_store() -> None:
    from handlers.serving import health
    from storage.db import make_engine, session_factory

    engine = make_engine("postgresql://nobody@127.0.0.1:9/none")  # port 9 (discard): nothing listens
    status, body = health(Store(engine=engine, sessions=session_factory(engine)))
    assert status == 503 and body["ok"] is False and body["error"]


def test_event_retry_to_another_instance_is_not_answered_twice(settings, slack_store: Store, fake) -> None:
    """Slack may retry to another instance behind the load balancer: the event_id row decides."""
    from tests.slack.fakes import event_callback

    event = {"type": "app_mention", "user": "UALICE", "text": "<@UBOT0001> hello", "ts": "1.5", "channel": "C1"}
    first = event_callback(event, event_id="EvSHARED0001")
    time.sleep(1.1)  # a retry comes later, with its own timestamp and signature
    retry = event_callback(event, event_id="EvSHARED0001")
    assert first.headers["X-Slack-Signature"] != retry.headers["X-Slack-Signature"]
    with serve_app(settings, store=slack_store) as one, serve_app(settings, store=slack_store) as two:
        assert one.send(first).status == 200
        assert two.send(retry, extra_headers={"X-Slack-Retry-Num": "1"}).status == 200
        fake.wait_for("chat.postMessage")
        fake.settle(0.5)
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_url_verification_answers_the_challenge(server) -> None:
    import json

    from tests.slack.fakes import SignedRequest

    body = json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    reply = server.send(SignedRequest(body, signed_headers(body, "application/json")))
    assert reply.status == 200 and b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in reply.body
