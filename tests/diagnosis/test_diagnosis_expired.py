"""Mail the queue gave up on is a final bounce: verdict `expired` (cause transient), returned to the sender after
N days of retries with the last deferral reason, never "may still succeed"; a mix with deferrals still being
retried says both."""

from __future__ import annotations

from datetime import UTC, timedelta

from bot.diagnosis.runbook import EXPIRED_STEPS
from bot.ingest.postfix import PostfixParser
from bot.render.text import render_text
from bot.store import Store
from storage import queries
from tests.diagnosis.test_diagnosis import NOW, ev, load, run

DEFER = ("{stamp} mx postfix/smtp[12]: 8E9FA0B1C2: to=<{rcpt}>, relay=mx.far.example[203.0.113.9]:25, delay=1, "
         "delays=0/0/0.5/0.5, dsn=4.0.0, status=deferred (host mx.far.example[203.0.113.9] said: 451 4.3.0 "
         "Temporary local problem - please try later (in reply to RCPT TO command))")


def postfix_events(lines: list[str]) -> list[dict]:
    parser = PostfixParser(reference=NOW, tz=UTC)
    return [e.as_row() for line in lines for e in parser.feed(line)]


def test_a_message_postfix_gave_up_on_is_returned_to_the_sender_after_its_days_of_retries(store: Store) -> None:
    load(store, postfix_events([
        "Nov 15 11:00:00 mx postfix/qmgr[9]: 8E9FA0B1C2: from=<me@our.example>, size=900, nrcpt=1 (queue active)",
        DEFER.format(stamp="Nov 15 11:00:01", rcpt="a@far.example"),
        DEFER.format(stamp="Nov 17 11:00:01", rcpt="a@far.example"),
        DEFER.format(stamp="Nov 20 10:00:01", rcpt="a@far.example"),
        "Nov 20 11:00:02 mx postfix/qmgr[9]: 8E9FA0B1C2: from=<me@our.example>, status=expired, returned to sender",
    ]))
    d = run(store, "me@our.example")
    assert (d.verdict.cause, d.verdict.reason) == ("transient", "expired")
    text = d.verdict.text
    assert "returned it to the sender" in text and "to a@far.example" in text
    assert "after 5 days of retries" in text
    assert "The last deferral: 451 4.3.0 Temporary local problem - please try later" in text
    assert "may still succeed" not in text and "still being retried" not in text
    top = d.findings[0]
    assert top.expired and top.count == 1 and tuple(top.next_steps) == EXPIRED_STEPS
    assert d.to_json()["findings"][0]["expired"] is True
    assert d.summary["expired"] == 1 and d.summary["deferred"] == 3
    assert "may still succeed" not in render_text(d).split("Findings")[0]


def test_a_target_with_expired_mail_and_deferrals_still_retrying_says_both(store: Store) -> None:
    day = timedelta(days=1)
    common = dict(direction="outbound", sender="me@our.example", rejected_by="remote", cause="transient",
                  reason="systemerror", smtp_code=451, reply_text="451 4.7.1 Greylisted, try again later")
    load(store, [
        ev("q1-d", (5 * day).total_seconds() / 60, disposition="deferred", queue_id="Q1", recipient="a@far.example",
           **common),
        ev("q1-x", 30, disposition="expired", queue_id="Q1", recipient="a@far.example",
           **{**common, "reply_text": None}),
        ev("q2-d", 20, disposition="deferred", queue_id="Q2", recipient="b@far.example", **common),  # still queued
        ev("q3-d", 50, disposition="deferred", queue_id="Q3", recipient="c@far.example", **common),
        ev("q3-ok", 40, disposition="delivered", queue_id="Q3", recipient="c@far.example", direction="outbound",
           sender="me@our.example", cause="delivered", reason="delivered"),
    ])
    d = run(store, "me@our.example")
    assert (d.verdict.cause, d.verdict.reason) == ("transient", "expired")
    assert "after 5 days of retries" in d.verdict.text
    assert "The last deferral: 451 4.7.1 Greylisted, try again later (systemerror)." in d.verdict.text  # from Q1's
    assert "Also 1 deferred delivery to b@far.example has no final outcome yet and is still being retried." in (
        d.verdict.text)
    assert "c@far.example" not in d.verdict.text  # delivered after its deferral
    with store.session() as s:
        waiting = queries_retrying(s)
    assert [(w["queue_id"], w["recipient"]) for w in waiting] == [("Q2", "b@far.example")]


def queries_retrying(session) -> list[dict]:
    from bot.diagnosis.expiry import retrying
    return retrying(session, "address", "me@our.example", since=NOW - timedelta(days=30), until=None)


def test_an_expired_event_from_another_source_is_read_the_same(store: Store) -> None:
    # a TMEMS "Expired": no queue id, no earlier deferral in the store, its last reply on the event itself
    load(store, [ev("t1", 90, source="tmems", disposition="expired", direction="outbound", sender="me@our.example",
                    recipient="x@far.example", message_id="<m1@our.example>", reason="expired", cause="transient",
                    rejected_by="remote", reply_text="Connection timed out")])
    d = run(store, "me@our.example")
    assert (d.verdict.cause, d.verdict.reason) == ("transient", "expired")
    assert "after its retries (the store does not hold its first attempt)" in d.verdict.text
    assert "The last deferral: Connection timed out." in d.verdict.text  # no reason beyond "expired"
    assert "may still succeed" not in d.verdict.text


def test_expired_mail_decides_the_verdict_over_many_plain_deferrals(store: Store) -> None:
    common = dict(direction="outbound", sender="me@our.example", rejected_by="remote", cause="transient",
                  reason="systemerror", smtp_code=451)
    load(store, [*[ev(f"d{i}", 10 + i, disposition="deferred", queue_id=f"D{i}", recipient=f"r{i}@far.example",
                      **common) for i in range(20)],
                 ev("x", 600, disposition="expired", queue_id="X", recipient="x@far.example", **common)])
    d = run(store, "me@our.example")
    assert d.verdict.reason == "expired" and [f.expired for f in d.findings] == [False, True]  # by score
    assert "Also 20 deferred deliveries" in d.verdict.text and "are still being retried" in d.verdict.text
    assert "to x@far.example after its retries" in d.verdict.text  # its first attempt is not in the store


def test_deferrals_alone_still_say_they_may_succeed(store: Store) -> None:
    load(store, [ev("d", 10, disposition="deferred", direction="outbound", sender="me@our.example", queue_id="D",
                    cause="transient", reason="systemerror", smtp_code=451, rejected_by="remote")])
    d = run(store, "me@our.example")
    assert d.verdict.reason == "systemerror" and "may still succeed" in d.verdict.text
    assert not d.findings[0].expired
    assert queries.FAILED  # the deferral is a failure finding, not an expired one
