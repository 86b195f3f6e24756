"""Slack Web API failures under the real app (served over HTTP, talking to the fake Web API over HTTP).

429 with Retry-After must be waited out and retried; a 500 or a timeout must be logged and the user told where
Slack still lets us tell them; and whatever happens, no answer may be posted twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.app import build_app
from bot.store import Store
from tests.faults.procs import report
from tests.slack.fakes import (
    BOT_USER_ID,
    AppServer,
    FakeSlackAPI,
    event_callback,
    fake_slack,
    serve_app,
    slash_command,
    test_settings,
)
from tests.slack.seed import BLOCKED, seed

POST = "chat.postMessage"


@pytest.fixture
def seeded(sqlite_url: str) -> Iterator[str]:
    from storage.db import make_engine, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(sqlite_url)
    seed(store)
    store.dispose()
    yield sqlite_url


@pytest.fixture
def fake() -> Iterator[FakeSlackAPI]:
    with fake_slack() as api:
        yield api


@pytest.fixture
def server(seeded: str, fake: FakeSlackAPI) -> Iterator[AppServer]:
    with serve_app(test_settings(seeded, fake)) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield served


def _answers(fake: FakeSlackAPI, needle: str = BLOCKED) -> list[Any]:
    """Successful chat.postMessage calls carrying the diagnosis (the fake records failures as 'method#status')."""
    return [c for c in fake.calls_to(POST) if needle in str(c.params.get("text", ""))]


def _mention(text: str) -> Any:
    now = f"{time.time():.6f}"
    return event_callback({"type": "app_mention", "user": "UALICE", "text": f"<@{BOT_USER_ID}> {text}",
                           "channel": "CSUPPORT", "ts": now, "event_ts": now})


@pytest.mark.parametrize("times", [1, 3])
def test_429_retry_after_is_waited_out_and_the_answer_posted_once(server: AppServer, fake: FakeSlackAPI,
                                                                  times: int) -> None:
    fake.fail_next(POST, status=429, retry_after=1, times=times)
    assert server.send(slash_command(BLOCKED, response_url=fake.response_url())).status == 200
    posted = fake.wait_for(POST, timeout=30, where=lambda c: BLOCKED in str(c.params.get("text", "")))
    fake.settle(quiet=1.0)
    limited = fake.calls_to(f"{POST}#429")
    assert len(limited) == times
    assert len(_answers(fake)) == 1
    waits = [b.at - a.at for a, b in zip(limited, [*limited[1:], posted[0]], strict=True)]
    assert all(w >= 0.95 for w in waits), waits  # each retry came after the Retry-After second
    assert not fake.calls_to("response_url")  # nothing to apologise for
    report("slack_429", rate_limited_calls=times, retry_after_s=1, waits_s=[round(w, 2) for w in waits],
           answers_posted=1)


def test_500_on_post_is_logged_and_the_user_told_through_the_response_url(server: AppServer, fake: FakeSlackAPI,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    fake.fail_next(POST, status=500, times=1)
    assert server.send(slash_command(BLOCKED, response_url=fake.response_url())).status == 200
    told = fake.wait_for("response_url", timeout=30)
    fake.settle(quiet=1.0)
    assert len(fake.calls_to(f"{POST}#500")) == 1
    assert len(_answers(fake)) <= 1
    assert "could not" in told[0].params["text"].lower() and BLOCKED in told[0].params["text"]
    assert any(r.levelno >= logging.ERROR and "failed" in r.getMessage() for r in caplog.records), caplog.text


def test_500_on_a_mention_answer_tells_the_user_in_the_thread_once(server: AppServer, fake: FakeSlackAPI,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    fake.fail_next(POST, status=500, times=1)
    assert server.send(_mention(f"why {BLOCKED}?")).status == 200
    fake.wait_for(POST, timeout=30)
    fake.settle(quiet=1.0)
    posts = fake.calls_to(POST)
    assert len(posts) == 1 and "could not" in posts[0].params["text"].lower(), [p.params for p in posts]
    assert any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text


def test_timeouts_are_logged_the_user_told_and_nothing_posted_twice(seeded: str, fake: FakeSlackAPI,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The fake holds the first chat.postMessage answers past the client's timeout (it did post them)."""
    caplog.set_level(logging.WARNING)
    slow_left = {"n": 2}
    lock = threading.Lock()

    def slow_post(params: dict[str, Any]) -> dict[str, Any]:
        with lock:
            slow = slow_left["n"] > 0
            slow_left["n"] -= 1
        if slow:
            time.sleep(2.5)
        return fake._m_chat_postMessage(params)

    fake.handlers[POST] = slow_post
    settings = test_settings(seeded, fake)
    store = Store.open(seeded)
    client = WebClient(token=fake.token, base_url=fake.base_url, timeout=1)
    app = build_app(settings, client=client, store=store, checker_factory=lambda: None)
    served = AppServer(app).start()
    try:
        fake.wait_for("auth.test")
        assert served.send(slash_command(BLOCKED, response_url=fake.response_url("slash"))).status == 200
        assert served.send(_mention(f"why {BLOCKED}?")).status == 200
        fake.wait_for("response_url", timeout=30)
        time.sleep(3)  # the held answers are released after 2.5 s
        fake.settle(quiet=1.0)
    finally:
        served.stop()
        store.dispose()
    texts = [str(c.params.get("text", "")) for c in fake.calls_to(POST)]
    diagnoses = [t for t in texts if BLOCKED in t and "could not" not in t.lower()]
    assert len(diagnoses) == 2, texts  # one per request: the slow post was not sent again
    assert "could not" in fake.calls_to("response_url")[0].params["text"].lower()
    assert any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text
    report("slack_timeouts", held_posts=2, client_timeout_s=1, diagnoses_posted=len(diagnoses),
           user_told=len(fake.calls_to("response_url")) + sum("could not" in t.lower() for t in texts))
