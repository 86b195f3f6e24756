"""/bounce with diagnosis worker processes, as `bouncebot serve` runs it: the worker diagnoses, renders and posts.

The web process only verifies, acknowledges and hands off; these tests hold it to that (its own Slack client
refuses to post), and check that a worker's failure, death or slowness still ends as an ephemeral note to the
user, never as silence, and that the workers run at the configured lower CPU priority.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest

from bot.diagnosis_pool import DEFAULT_NICE, DiagnosisPool
from handlers import replies
from tests.slack.fakes import AppServer, FakeSlackAPI, slash_command
from tests.slack.seed import BLOCKED, seed

#: How long the pooled server waits for one job in these tests (the default is a minute).
TIMEOUT = 3.0


def _cmd(text: str, fake: FakeSlackAPI, **kw):
    return slash_command(text, response_url=fake.response_url(), **kw)


@pytest.fixture
def pooled(settings, slack_store, fake) -> Iterator[AppServer]:
    """The app with one diagnosis worker process (no live DNS checks), served over HTTP; the web process's
    own chat.postMessage raises, so every answer that arrives was posted by the worker."""
    from bot.app import build_app

    seed(slack_store)
    app = build_app(settings, store=slack_store, checker_factory=lambda: None, diagnosis_processes=1)
    services = app.services
    services.pool.timeout = TIMEOUT
    services.pool.warm_up()

    def not_here(*args, **kwargs):
        raise AssertionError("the web process posted a diagnosis itself")

    services.chat.post_message = not_here
    server = AppServer(app).start()
    fake.wait_for("auth.test")
    fake.clear()
    try:
        yield server
    finally:
        server.stop()
        services.pool.close()


def test_the_worker_posts_the_diagnosis(pooled, fake) -> None:
    reply = pooled.send(_cmd(BLOCKED, fake))
    assert reply.status == 200 and b"Looking into" in reply.body
    (post,) = fake.wait_for("chat.postMessage", timeout=20)
    assert post.params["channel"] == "CSUPPORT"
    blocks = json.dumps(post.json("blocks"))
    assert BLOCKED in blocks and "gateway_reputation" in blocks and "bouncebot.approve_sender" in blocks
    fake.settle()
    assert fake.calls_to("response_url") == []  # no failure note beside the answer


def test_not_a_member_the_worker_answers_through_the_response_url(pooled, fake) -> None:
    fake.handlers["chat.postMessage"] = lambda params: {"ok": False, "error": "not_in_channel"}
    pooled.send(_cmd(BLOCKED, fake))
    (answer,) = fake.wait_for("response_url", timeout=20)
    assert answer.params["response_type"] == "in_channel" and answer.params["replace_original"] is False
    assert BLOCKED in json.dumps(answer.params["blocks"])


def test_a_post_the_api_refuses_is_told_ephemerally(pooled, fake) -> None:
    fake.handlers["chat.postMessage"] = lambda params: {"ok": False, "error": "invalid_blocks"}
    pooled.send(_cmd(BLOCKED, fake))
    (note,) = fake.wait_for("response_url", timeout=20)
    assert note.params["response_type"] == "ephemeral"
    assert "could not finish the diagnosis" in note.params["text"] and BLOCKED in note.params["text"]


def test_a_store_error_in_the_worker_is_told_as_such(pooled, fake, slack_store) -> None:
    """The worker's driver exception does not travel between processes; its first line does, as StoreError."""
    from sqlalchemy import text

    with slack_store.engine.begin() as conn:
        conn.execute(text("DROP TABLE events"))
    pooled.send(_cmd(BLOCKED, fake))
    (note,) = fake.wait_for("response_url", timeout=20)
    assert note.params["response_type"] == "ephemeral" and "tracking store is unreachable" in note.params["text"]
    assert fake.calls_to("chat.postMessage") == []


def _die(*args) -> None:
    """Runs in the worker instead of the diagnosis: the process ends at once, as under the OOM killer."""
    os._exit(70)


def test_a_worker_that_dies_is_told_and_replaced(pooled, fake, monkeypatch) -> None:
    real = replies._post_diagnosis_in_worker
    monkeypatch.setattr(replies, "_post_diagnosis_in_worker", _die)
    pooled.send(_cmd(BLOCKED, fake))
    (note,) = fake.wait_for("response_url", timeout=20)
    assert note.params["response_type"] == "ephemeral" and "could not finish the diagnosis" in note.params["text"]
    assert fake.calls_to("chat.postMessage") == []
    # the pool is replaced: a new worker starts (warm_up waits for it, as `serve` does at start) and answers
    monkeypatch.setattr(replies, "_post_diagnosis_in_worker", real)
    pooled.services.pool.warm_up()
    fake.clear()
    pooled.send(_cmd(BLOCKED, fake))
    (post,) = fake.wait_for("chat.postMessage", timeout=30)
    assert BLOCKED in json.dumps(post.json("blocks"))


def _slow_then_post(channel, target, since, response_url, deadline) -> None:
    """In the worker: a diagnosis that takes longer than the web process waits, then tries to post anyway."""
    time.sleep(TIMEOUT + 1.0)
    replies._post_diagnosis_in_worker(channel, target, since, response_url, deadline)


def test_a_diagnosis_that_takes_too_long_is_told_once_and_never_posted_late(pooled, fake, monkeypatch) -> None:
    real = replies._post_diagnosis_in_worker
    monkeypatch.setattr(replies, "_post_diagnosis_in_worker", _slow_then_post)
    started = time.monotonic()
    pooled.send(_cmd(BLOCKED, fake))
    (note,) = fake.wait_for("response_url", timeout=20)
    assert TIMEOUT - 0.5 < time.monotonic() - started < TIMEOUT + 3
    assert "could not finish the diagnosis" in note.params["text"]
    time.sleep(2.0)  # the worker would be done sleeping by now (it was stopped: it never posts)
    assert fake.calls_to("chat.postMessage") == []
    assert len(fake.calls_to("response_url")) == 1
    # the slow worker was replaced: the next command is answered
    monkeypatch.setattr(replies, "_post_diagnosis_in_worker", real)
    pooled.services.pool.warm_up()
    pooled.send(_cmd(BLOCKED, fake))
    (post,) = fake.wait_for("chat.postMessage", timeout=30)
    assert BLOCKED in json.dumps(post.json("blocks"))


def _niceness_of(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


@pytest.mark.parametrize("nice", [0, 7])
def test_workers_run_at_the_configured_niceness(settings, nice) -> None:
    pool = DiagnosisPool(settings, processes=2, live=False, nice=nice)
    try:
        pool.warm_up()
        pids = pool.worker_pids()
        assert len(pids) == 2
        assert [_niceness_of(pid) for pid in pids] == [_niceness_of(0) + nice] * 2
    finally:
        pool.close()


def test_bouncebot_serve_workers_are_niced_by_default(settings, slack_store) -> None:
    from bot.app import DIAGNOSIS_NICE, build_app

    assert DIAGNOSIS_NICE == DEFAULT_NICE == 10
    app = build_app(settings, store=slack_store, checker_factory=lambda: None, diagnosis_processes=1)
    try:
        app.services.pool.warm_up()
        (pid,) = app.services.pool.worker_pids()
        assert _niceness_of(pid) == min(19, _niceness_of(0) + DIAGNOSIS_NICE)
    finally:
        app.services.pool.close()
