"""A real Postfix (../shared/recipes/postfix.md) refuses, holds, drops and loses messages before qmgr ever sees them:
header and body checks, a real milter (tests/ingest/milter.py), milters it cannot reach, message_size_limit
without SIZE=, clients that go away during DATA. Ingesting the log it wrote, every one of them is an event of its
sender (where the log names one) and its client, and no line of a message is left unrecognised.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.diagnosis import diagnose
from bot.ingest.runner import QUIET_SECONDS, Ingestor
from bot.store import Store
from bot.targets import parse_target
from storage.models import Event
from tests.ingest.postfix_fates import DEFER_REPLY, record, record_expiry
from tests.ingest.real_postfix import recorded

pytestmark = [pytest.mark.postfix, pytest.mark.slow]


@pytest.fixture(scope="module")
def fates_log() -> Iterator[Path]:
    yield from recorded(record)


def _by_ip(store: Store) -> dict[str, list[Event]]:
    with store.session() as session:
        # the outcomes (the traffic report's `received`/`warned` events are checked against pflogsumm in tests/report)
        events = list(session.scalars(select(Event).where(Event.disposition.not_in(("received", "warned")))
                                      .order_by(Event.time, Event.id)))
    found: dict[str, list[Event]] = {}
    for event in events:
        found.setdefault(event.client_ip or "", []).append(event)
    return found


def _row(event: Event) -> tuple:
    return event.disposition, event.sender, event.recipient, event.stage


def test_every_message_the_real_log_tells_of_is_an_event(store: Store, fates_log: Path) -> None:
    time.sleep(max(0.0, QUIET_SECONDS - (time.time() - fates_log.stat().st_mtime)))  # the log has gone quiet
    result = Ingestor(store, "postfix").ingest(fates_log)
    assert result.stats.unrecognised == {}, result.stats.examples
    assert result.stats.skipped == 0, result.stats.examples
    ip = _by_ip(store)
    rt, pm = "root@test.local", "postmaster@test.local"

    # header check REJECT of a message to two recipients: Postfix names one, the disconnect line counts both
    assert sorted(map(_row, ip["127.0.0.21"]), key=str) == sorted([
        ("rejected", "hdr-reject@senders.example", pm, "DATA"),
        ("rejected", "hdr-reject@senders.example", None, "DATA")], key=str)
    assert {e.enhanced_status for e in ip["127.0.0.21"]} == {"5.7.1"}
    assert list(map(_row, ip["127.0.0.22"])) == [("rejected", "body-reject@senders.example", rt, "DATA")]
    assert list(map(_row, ip["127.0.0.23"])) == [("deleted", "hdr-discard@senders.example", rt, "DATA")]
    assert list(map(_row, ip["127.0.0.24"])) == [("quarantined", "hdr-hold@senders.example", rt, "DATA")]
    assert list(map(_row, ip["127.0.0.25"])) == [("delivered", "hdr-warn@senders.example", rt, None)]

    # message_size_limit without SIZE=: the sender and recipient only from cleanup's INFO line
    big = ip["127.0.0.26"]  # to two recipients: the INFO line names one, the disconnect line counts both
    assert [(*_row(e), e.smtp_code, e.enhanced_status, e.reason) for e in big] == [
        ("rejected", "big-traced@senders.example", pm, "END-OF-MESSAGE", 552, "5.3.4", "mesgtoobig"),
        ("rejected", "big-traced@senders.example", None, "END-OF-MESSAGE", 552, "5.3.4", "mesgtoobig")]

    # clients lost during DATA: with a line naming the envelope, and without
    lost = ip["127.0.0.27"]
    assert [(*_row(e), e.reason, e.cause) for e in lost] == [
        ("rejected", "lost-traced@senders.example", rt, "DATA", "networkerror", "transient")]
    quiet = ip["127.0.0.28"]
    assert [(*_row(e), e.reason) for e in quiet] == [("rejected", None, None, "DATA", "networkerror")]
    assert quiet[0].queue_id and "lost connection after DATA" in quiet[0].reply_text
    two = ip["127.0.0.29"]  # nothing names the envelope; the disconnect line counts two recipients
    assert [(*_row(e), e.reason, e.nrcpt) for e in two] == [("rejected", None, None, "DATA", "networkerror", None),
                                                           ("rejected", None, None, "DATA", "networkerror", 2)]

    # a real milter's verdicts
    milter = {e.sender: e for octet in range(31, 37) for e in ip[f"127.0.0.{octet}"] if e.disposition != "delivered"}
    assert {s: (e.disposition, e.recipient, e.stage, e.enhanced_status) for s, e in milter.items()} == {
        "milter-text@senders.example": ("rejected", rt, "END-OF-MESSAGE", "5.7.1"),
        "milter-plain@senders.example": ("rejected", rt, "END-OF-MESSAGE", "5.7.1"),
        "milter-tempfail@senders.example": ("rejected", rt, "END-OF-MESSAGE", "4.7.1"),
        "milter-discard@senders.example": ("deleted", rt, "END-OF-MESSAGE", None),
        "milter-hold@senders.example": ("quarantined", rt, "END-OF-MESSAGE", None),
        "milter-rcpt@senders.example": ("rejected", "root+milter-reject@test.local", "RCPT", "5.1.1"),
    }
    assert "tagged as spam" in milter["milter-text@senders.example"].reply_text
    assert [(e.disposition, e.recipient) for e in ip["127.0.0.36"] if e.disposition == "delivered"] == [
        ("delivered", rt)]

    # milters that cannot be reached: milter_default_action = tempfail (the sender is named at MAIL), = reject
    dead = ip["127.0.0.41"]
    assert [(e.stage, e.smtp_code) for e in dead] == [("CONNECT", 451), ("EHLO", 451), ("MAIL", 451)]
    assert dead[-1].sender == "dead-tempfail@senders.example"
    assert [(e.stage, e.smtp_code, e.enhanced_status) for e in ip["127.0.0.42"]] == [("CONNECT", 550, "5.5.0")]

    again = Ingestor(store, "postfix").ingest(fates_log)
    assert (again.stats.lines, again.new_events) == (0, 0)


@pytest.fixture(scope="module")
def expiry_log() -> Iterator[Path]:
    yield from recorded(record_expiry)


def test_mail_the_real_queue_gave_up_on_is_returned_to_the_sender(store: Store, expiry_log: Path) -> None:
    """maximal_queue_lifetime = 4s and a next hop that defers every recipient: qmgr logs `status=expired,
    returned to sender`; the diagnosis says so, with the time of retries and the last deferral."""
    result = Ingestor(store, "postfix").ingest(expiry_log)
    assert result.stats.unrecognised == {} and result.stats.skipped == 0, result.stats.examples
    with store.session() as session:
        events = list(session.scalars(select(Event).where(Event.sender == "expire@ours.test",
                                                          Event.disposition != "received")
                                      .order_by(Event.time, Event.id)))
        assert {e.disposition for e in events[:-1]} == {"deferred"} and len(events) >= 2
        expired = events[-1]
        assert (expired.disposition, expired.recipient, expired.smtp_code, expired.direction) == (
            "expired", "someone@far.example", 451, "outbound")
        assert expired.reply_text == DEFER_REPLY
        d = diagnose(session, parse_target("expire@ours.test"), settings=Settings())
    assert (d.verdict.cause, d.verdict.reason) == ("transient", "expired")
    span = round((expired.time - events[0].time).total_seconds())
    assert f"to someone@far.example after {span} seconds of retries" in d.verdict.text
    assert f"The last deferral: {DEFER_REPLY}" in d.verdict.text
    assert "may still succeed" not in d.verdict.text and "still being retried" not in d.verdict.text
