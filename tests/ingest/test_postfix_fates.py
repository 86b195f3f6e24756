"""Messages that never reach qmgr, line by line: every fate the log tells becomes events.

The lines are quoted from a real Postfix 3.7.11 run of tests/ingest/postfix_fates.py (header/body checks, a real
milter, message_size_limit without SIZE=, clients lost during DATA); tests/ingest/test_postfix_fates_e2e.py runs
those paths on a real Postfix again.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

from sqlalchemy import select

from bot.cli.ingest import summary
from bot.ingest.postfix import PostfixParser as _PostfixParser
from bot.ingest.runner import Ingestor, IngestResult
from storage.models import Event
from tests.support import shared_path

REF = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
#: What these tests look at: the outcomes (the traffic report's `received` and `warned` events: tests/report).
TRAFFIC = ("received", "warned")


class PostfixParser(_PostfixParser):
    """The parser, giving the outcomes of the lines only."""

    def feed(self, line: str) -> list:
        return [e for e in super().feed(line) if e.disposition not in TRAFFIC]

    def settle(self) -> list:
        return [e for e in super().settle() if e.disposition not in TRAFFIC]
P = "Dec 07 17:42:{} mx postfix/{}"


def feed_all(lines: list[str], parser: PostfixParser | None = None) -> tuple[list, PostfixParser]:
    parser = parser or PostfixParser(reference=REF, tz=UTC)
    return [e for line in lines for e in parser.feed(line)], parser


def fields(events: list, *names: str) -> list[tuple]:
    return [tuple(getattr(e, n) for n in names) for e in events]


HEADER_REJECT_TWO_RCPTS = [
    "Dec 07 17:42:39 mx postfix/smtpd[22256]: connect from unknown[127.0.0.21]",
    "Dec 07 17:42:39 mx postfix/smtpd[22256]: BFAEE16C3DE: client=unknown[127.0.0.21]",
    "Dec 07 17:42:39 mx postfix/cleanup[22266]: BFAEE16C3DE: reject: header Subject: HEADER-REJECT offer from "
    "unknown[127.0.0.21]; from=<hdr-reject@senders.example> to=<postmaster@test.local> proto=ESMTP "
    "helo=<client.fates.test>: 5.7.1 Subject refused by our header checks",
    "Dec 07 17:42:39 mx postfix/smtpd[22256]: disconnect from unknown[127.0.0.21] ehlo=1 mail=1 rcpt=2 data=0/1 "
    "quit=1 commands=5/6",
]


def test_a_header_check_reject_names_one_recipient_and_the_disconnect_line_counts_the_other() -> None:
    events, parser = feed_all(HEADER_REJECT_TWO_RCPTS)
    assert fields(events, "disposition", "sender", "recipient", "client_ip", "stage", "enhanced_status") == [
        ("rejected", "hdr-reject@senders.example", "postmaster@test.local", "127.0.0.21", "DATA", "5.7.1"),
        ("rejected", "hdr-reject@senders.example", None, "127.0.0.21", "DATA", "5.7.1"),
    ]
    assert "Subject refused by our header checks" in events[1].reply_text
    assert "1 more accepted recipient" in events[1].reply_text and "rcpt=2" in events[1].reply_text
    assert events[0].reason == events[1].reason and events[0].cause == events[1].cause
    assert len({e.source_key for e in events}) == 2
    assert parser.stats.unrecognised == {} and parser.stats.skipped == 0


def test_a_body_check_reject_with_one_recipient_is_one_event() -> None:
    events, _ = feed_all([
        "Dec 07 17:42:39 mx postfix/smtpd[22262]: connect from unknown[127.0.0.22]",
        "Dec 07 17:42:39 mx postfix/smtpd[22262]: C1A2B16C3DE: client=unknown[127.0.0.22]",
        "Dec 07 17:42:39 mx postfix/cleanup[22266]: C1A2B16C3DE: message-id=<e32fc3fce9fd46f08956281218a02a4e@fates."
        "test>",
        "Dec 07 17:42:39 mx postfix/cleanup[22266]: C1A2B16C3DE: reject: body a BODY-REJECT line from unknown"
        "[127.0.0.22]; from=<body-reject@senders.example> to=<root@test.local> proto=ESMTP helo=<client.fates.test>: "
        "5.7.1 Body refused by our body checks",
        "Dec 07 17:42:39 mx postfix/smtpd[22262]: disconnect from unknown[127.0.0.22] ehlo=1 mail=1 rcpt=1 data=0/1 "
        "quit=1 commands=4/5",
    ])
    assert fields(events, "disposition", "sender", "recipient", "message_id", "reply_text") == [
        ("rejected", "body-reject@senders.example", "root@test.local",
         "<e32fc3fce9fd46f08956281218a02a4e@fates.test>", "5.7.1 Body refused by our body checks")]


SIZE_INFO_FIRST = [
    "Dec 07 17:42:39 mx postfix/smtpd[22262]: connect from unknown[127.0.0.26]",
    "Dec 07 17:42:39 mx postfix/smtpd[22262]: E055216C3E0: client=unknown[127.0.0.26]",
    "Dec 07 17:42:39 mx postfix/cleanup[22266]: E055216C3E0: message-id=<3f31141ea5814b9e8902ecdaa04f62d0@fates.test>",
    "Dec 07 17:42:39 mx postfix/cleanup[22266]: E055216C3E0: info: header X-Trace: client-side trace id 42 from "
    "unknown[127.0.0.26]; from=<big-traced@senders.example> to=<root@test.local> proto=ESMTP "
    "helo=<client.fates.test>: traced by our header checks",
    "Dec 07 17:42:39 mx postfix/smtpd[22262]: warning: E055216C3E0: queue file size limit exceeded",
    "Dec 07 17:42:39 mx postfix/cleanup[22266]: warning: mail_stream_cleanup: close error",
    "Dec 07 17:42:39 mx postfix/smtpd[22262]: disconnect from unknown[127.0.0.26] ehlo=1 mail=1 rcpt=1 data=0/1 "
    "quit=1 commands=4/5",
]


def test_size_limit_without_size_takes_its_sender_from_cleanups_info_line_before_it() -> None:
    events, parser = feed_all(SIZE_INFO_FIRST)
    assert fields(events, "disposition", "sender", "recipient", "client_ip", "smtp_code", "enhanced_status",
                  "reason") == [("rejected", "big-traced@senders.example", "root@test.local", "127.0.0.26", 552,
                                 "5.3.4", "mesgtoobig")]
    assert events[0].message_id == "<3f31141ea5814b9e8902ecdaa04f62d0@fates.test>"
    assert parser.settle() == []


def test_size_limit_without_size_waits_for_the_info_line_written_after_it() -> None:
    # seen in another run: smtpd's warning first, cleanup's info line after it (two processes)
    lines = [*SIZE_INFO_FIRST[:3], SIZE_INFO_FIRST[4], SIZE_INFO_FIRST[3], *SIZE_INFO_FIRST[5:]]
    parser = PostfixParser(reference=REF, tz=UTC)
    made = [len(parser.feed(line)) for line in lines]
    assert made == [0, 0, 0, 0, 1, 0, 0]  # the event comes with the line that names the envelope
    events, _ = feed_all(lines)
    assert fields(events, "sender", "recipient", "time") == [
        ("big-traced@senders.example", "root@test.local", datetime(2026, 12, 7, 17, 42, 39, tzinfo=UTC))]
    assert "queue file size limit exceeded" in events[0].reply_text


LOST = [
    "Dec 07 17:42:39 mx postfix/smtpd[22256]: connect from unknown[127.0.0.27]",
    "Dec 07 17:42:39 mx postfix/smtpd[22256]: E305616C3DF: client=unknown[127.0.0.27]",
    "Dec 07 17:42:40 mx postfix/smtpd[22256]: lost connection after DATA (193 bytes) from unknown[127.0.0.27]",
    "Dec 07 17:42:40 mx postfix/smtpd[22256]: disconnect from unknown[127.0.0.27] ehlo=1 mail=1 rcpt=1 data=0/1 "
    "commands=3/4",
    "Dec 07 17:42:40 mx postfix/cleanup[22266]: E305616C3DF: info: header X-Trace: client-side trace id 42 from "
    "unknown[127.0.0.27]; from=<lost-traced@senders.example> to=<root@test.local> proto=ESMTP "
    "helo=<client.fates.test>: traced by our header checks",
    "Dec 07 17:42:40 mx postfix/cleanup[22266]: E305616C3DF: message-id=<>",
]
LOST_QUIET = [
    "Dec 07 17:42:40 mx postfix/smtpd[22262]: connect from unknown[127.0.0.28]",
    "Dec 07 17:42:40 mx postfix/smtpd[22262]: 6AA6416C3DF: client=unknown[127.0.0.28]",
    "Dec 07 17:42:40 mx postfix/smtpd[22262]: lost connection after DATA (159 bytes) from unknown[127.0.0.28]",
    "Dec 07 17:42:40 mx postfix/cleanup[22266]: 6AA6416C3DF: message-id=<>",
    "Dec 07 17:42:40 mx postfix/smtpd[22262]: disconnect from unknown[127.0.0.28] ehlo=1 mail=1 rcpt=1 data=0/1 "
    "commands=3/4",
]


def test_a_client_lost_during_data_is_an_event_with_the_sender_cleanup_named_after_the_disconnect() -> None:
    events, parser = feed_all(LOST)
    assert fields(events, "disposition", "sender", "recipient", "client_ip", "stage", "queue_id", "reason",
                  "cause") == [("rejected", "lost-traced@senders.example", "root@test.local", "127.0.0.27", "DATA",
                                "E305616C3DF", "networkerror", "transient")]
    assert events[0].reply_text.startswith("lost connection after DATA (193 bytes): the client went away")
    assert events[0].time == datetime(2026, 12, 7, 17, 42, 40, tzinfo=UTC)
    assert parser.settle() == [] and parser.open_queues == 1  # message-id=<> came after: swept later


def test_a_client_lost_during_data_with_no_line_naming_the_sender_is_made_when_the_log_moves_on() -> None:
    events, parser = feed_all(LOST_QUIET)
    assert events == []  # cleanup might still name the envelope
    later, _ = feed_all(["Dec 07 17:42:46 mx postfix/postfix-script[22386]: stopping the Postfix mail system"],
                        parser)
    assert fields(later, "disposition", "sender", "recipient", "client_ip", "reason") == [
        ("rejected", None, None, "127.0.0.28", "networkerror")]
    assert parser.stats.events == 2  # counted with its `received` event
    _, quiet = feed_all(LOST_QUIET)
    settled = quiet.settle()  # the runner: the file has gone quiet
    assert [(e.source_key, e.as_row()) for e in settled] == [(e.source_key, e.as_row()) for e in later]
    assert quiet.stats.events == 2


def test_waiting_events_survive_a_snapshot_and_restore_exactly() -> None:
    lines = [*LOST_QUIET, *LOST, *SIZE_INFO_FIRST[:3], SIZE_INFO_FIRST[4],
             "Dec 07 17:42:59 mx postfix/postfix-script[22386]: stopping the Postfix mail system"]
    whole, _ = feed_all(lines)
    assert len(whole) == 3
    for cut in range(len(lines) + 1):
        first, parser = feed_all(lines[:cut])
        second = PostfixParser(reference=REF, tz=UTC)
        second.restore(json.loads(json.dumps(parser.snapshot())))
        rest, _ = feed_all(lines[cut:], second)
        assert [(e.source_key, e.as_row()) for e in first + rest] == [(e.source_key, e.as_row()) for e in whole]


MILTER = [  # (line, disposition, sender, recipient, stage, enhanced status)
    ("Dec 07 17:42:40 mx postfix/cleanup[22266]: E88AD16C3DF: milter-reject: END-OF-MESSAGE from unknown[127.0.0.31]: "
     "5.7.1 Message refused by the content filter: tagged as spam; from=<milter-text@senders.example> "
     "to=<root@test.local> proto=ESMTP helo=<client.fates.test>",
     "rejected", "milter-text@senders.example", "root@test.local", "END-OF-MESSAGE", "5.7.1"),
    ("Dec 07 17:42:41 mx postfix/cleanup[22266]: F2D2816C3DF: milter-reject: END-OF-MESSAGE from unknown[127.0.0.32]: "
     "5.7.1 Command rejected; from=<milter-plain@senders.example> to=<root@test.local> proto=ESMTP "
     "helo=<client.fates.test>", "rejected", "milter-plain@senders.example", "root@test.local", "END-OF-MESSAGE",
     "5.7.1"),
    ("Dec 07 17:42:41 mx postfix/cleanup[22266]: 080E016C3DF: milter-reject: END-OF-MESSAGE from unknown[127.0.0.33]: "
     "4.7.1 Service unavailable - try again later; from=<milter-tempfail@senders.example> to=<root@test.local> "
     "proto=ESMTP helo=<client.fates.test>", "rejected", "milter-tempfail@senders.example", "root@test.local",
     "END-OF-MESSAGE", "4.7.1"),
    ("Dec 07 17:42:41 mx postfix/cleanup[22266]: 0F66F16C3DF: milter-discard: END-OF-MESSAGE from unknown"
     "[127.0.0.34]: milter triggers DISCARD action; from=<milter-discard@senders.example> to=<root@test.local> "
     "proto=ESMTP helo=<client.fates.test>", "deleted", "milter-discard@senders.example", "root@test.local",
     "END-OF-MESSAGE", None),
    ("Dec 07 17:42:41 mx postfix/cleanup[22266]: 13E9F16C3DF: milter-hold: END-OF-MESSAGE from unknown[127.0.0.35]: "
     "milter triggers HOLD action; from=<milter-hold@senders.example> to=<root@test.local> proto=ESMTP "
     "helo=<client.fates.test>", "quarantined", "milter-hold@senders.example", "root@test.local", "END-OF-MESSAGE",
     None),
    ("Dec 07 17:42:41 mx postfix/smtpd[22262]: 1D35D16C3E1: milter-reject: RCPT from unknown[127.0.0.36]: 550 5.1.1 "
     "Recipient refused by the content filter; from=<milter-rcpt@senders.example> to=<root+milter-reject@test.local> "
     "proto=ESMTP helo=<client.fates.test>", "rejected", "milter-rcpt@senders.example",
     "root+milter-reject@test.local", "RCPT", "5.1.1"),
    ("Dec 07 17:42:41 mx postfix/smtpd[22257]: NOQUEUE: milter-reject: MAIL from unknown[127.0.0.41]: 451 4.7.1 "
     "Service unavailable - try again later; from=<dead-tempfail@senders.example> proto=ESMTP "
     "helo=<client.fates.test>", "rejected", "dead-tempfail@senders.example", None, "MAIL", "4.7.1"),
    ("Dec 07 17:42:41 mx postfix/smtpd[22258]: NOQUEUE: milter-reject: CONNECT from unknown[127.0.0.42]: 550 5.5.0 "
     "Service unavailable; proto=SMTP", "rejected", None, None, "CONNECT", "5.5.0"),
]


def test_every_milter_verdict_is_an_event_of_its_sender() -> None:
    for line, disposition, sender, recipient, stage, status in MILTER:
        events, parser = feed_all([line])
        assert fields(events, "disposition", "sender", "recipient", "stage", "enhanced_status") == [
            (disposition, sender, recipient, stage, status)], line
        assert events[0].client_ip.startswith("127.0.0.") and events[0].rejected_by == "gateway"
        assert parser.stats.skipped == 0


def test_header_check_warn_and_info_lines_are_read_not_counted_as_unknown() -> None:
    events, parser = feed_all([
        "Dec 07 17:42:39 mx postfix/smtpd[22256]: 7045B16C3CF: client=unknown[127.0.0.25]",
        "Dec 07 17:42:39 mx postfix/cleanup[22266]: 7045B16C3CF: warning: header Subject: HEADER-WARN from unknown"
        "[127.0.0.25]; from=<hdr-warn@senders.example> to=<root@test.local> proto=ESMTP helo=<client.fates.test>: "
        "flagged by our header checks",
        "Dec 07 17:42:39 mx postfix/qmgr[22254]: 7045B16C3CF: from=<hdr-warn@senders.example>, size=449, nrcpt=1 "
        "(queue active)",
        "Dec 07 17:42:39 mx postfix/local[22271]: 7045B16C3CF: to=<root@test.local>, relay=local, delay=0.01, "
        "delays=0/0.01/0/0, dsn=2.0.0, status=sent (delivered to mailbox)",
        "Dec 07 17:42:39 mx postfix/bounce[671]: 7045B16C3CF: sender non-delivery notification: 928CF16003E",
        "Dec 07 17:42:39 mx postfix/qmgr[22254]: 7045B16C3CF: removed",
    ])
    assert fields(events, "disposition", "sender") == [("delivered", "hdr-warn@senders.example")]
    assert parser.stats.unrecognised == {} and parser.stats.skipped == 0


def test_a_queue_id_line_of_an_unknown_shape_is_counted_per_kind_and_shown_in_the_summary() -> None:
    new_shape = "Dec 07 17:42:39 mx postfix/cleanup[22266]: 7045B16C3CF: frobnicated: header X-New: 1"
    events, parser = feed_all([
        new_shape, new_shape.replace("7045B16C3CF", "7045B16C3D0"),
        "Dec 07 17:42:39 mx postfix/smtp[30]: 7045B16C3D1: to=<a@b.example>, relay=none, something new",
        "Dec 07 17:42:39 mx postfix/smtpd[22262]: warning: 7045B16C3D2: a warning never seen before",
        "Dec 07 17:42:39 mx postfix/smtpd[22262]: lost connection after RCPT from unknown[127.0.0.28]",  # no qid
    ])
    assert events == []
    assert parser.stats.unrecognised == {
        "cleanup: QID: frobnicated:": 2, "smtp: QID: to=": 1, "smtpd: warning: QID: a warning never seen before": 1}
    text = summary("postfix", IngestResult(path="/var/log/mail.log", stats=parser.stats))
    first, *more = text.splitlines()
    assert "4 skipped" in first
    assert more[0] == f"  unrecognised [cleanup: QID: frobnicated:]: 2, first: {new_shape}"
    assert more[1].startswith("  unrecognised [smtp: QID: to=]: 1, first: Dec 07 17:42:39 mx postfix/smtp[30]")
    assert len(more) == 3


def test_the_dev_scenario_has_no_unrecognised_line() -> None:
    lines = shared_path("corpus", "postfix", "dev-maillog.log").read_text().splitlines()
    events, parser = feed_all(lines, PostfixParser(reference=datetime(2026, 11, 30, 12, tzinfo=UTC)))
    assert events and parser.stats.unrecognised == {} and parser.stats.skipped == 0


def test_the_runner_makes_waiting_events_once_the_file_has_gone_quiet(store, tmp_path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("\n".join(LOST_QUIET) + "\n")
    fresh = Ingestor(store, "postfix").ingest(log)  # just written: cleanup may still name the envelope
    assert (fresh.stats.events, fresh.new_events) == (0, 0)
    old = time.time() - 60
    os.utime(log, (old, old))
    quiet = Ingestor(store, "postfix").ingest(log)  # no new line, but the file has gone quiet
    assert (quiet.stats.lines, quiet.new_events) == (0, 2)  # the rejected event and the `received` one
    with store.session() as session:
        stored = session.scalars(select(Event).where(Event.disposition != "received"))
        assert [(e.client_ip, e.reason) for e in stored] == [("127.0.0.28", "networkerror")]
    assert Ingestor(store, "postfix").ingest(log).new_events == 0


def test_an_action_line_with_a_queue_id_that_cannot_be_read_is_unrecognised_not_lost() -> None:
    events, parser = feed_all([
        "Dec 07 17:42:39 mx postfix/cleanup[22266]: 7045B16C3CF: reject: something Postfix may write one day"])
    assert events == [] and parser.stats.unrecognised == {"cleanup: QID: reject: (unparsed)": 1}


SIZE_TWO_RCPTS = [
    "Dec 07 18:43:17 mx postfix/smtpd[19351]: connect from unknown[127.0.0.26]",
    "Dec 07 18:43:17 mx postfix/smtpd[19351]: 5C50716C3F7: client=unknown[127.0.0.26]",
    "Dec 07 18:43:17 mx postfix/cleanup[19379]: 5C50716C3F7: message-id=<692dfbc98e7c415198fb57ee4bedd176@fates.test>",
    "Dec 07 18:43:17 mx postfix/cleanup[19379]: 5C50716C3F7: info: header X-Trace: client-side trace id 42 from "
    "unknown[127.0.0.26]; from=<big-traced@senders.example> to=<postmaster@test.local> proto=ESMTP "
    "helo=<client.fates.test>: traced by our header checks",
    "Dec 07 18:43:17 mx postfix/smtpd[19351]: warning: 5C50716C3F7: queue file size limit exceeded",
    "Dec 07 18:43:17 mx postfix/cleanup[19379]: warning: mail_stream_cleanup: close error",
    "Dec 07 18:43:17 mx postfix/smtpd[19351]: disconnect from unknown[127.0.0.26] ehlo=1 mail=1 rcpt=2 data=0/1 "
    "quit=1 commands=5/6",
]
LOST_TWO_RCPTS = [
    "Dec 07 18:43:18 mx postfix/smtpd[19368]: connect from unknown[127.0.0.29]",
    "Dec 07 18:43:18 mx postfix/smtpd[19368]: 7408816C3F6: client=unknown[127.0.0.29]",
    "Dec 07 18:43:18 mx postfix/smtpd[19368]: lost connection after DATA (159 bytes) from unknown[127.0.0.29]",
    "Dec 07 18:43:18 mx postfix/cleanup[19379]: 7408816C3F6: message-id=<>",
    "Dec 07 18:43:18 mx postfix/smtpd[19368]: disconnect from unknown[127.0.0.29] ehlo=1 mail=1 rcpt=2 data=0/1 "
    "commands=4/5",
]


def test_a_never_queued_message_to_two_recipients_is_two_events_whichever_line_comes_last() -> None:
    # the envelope named before smtpd's warning: the event at once, the unnamed recipient at the disconnect
    events, parser = feed_all(SIZE_TWO_RCPTS)
    assert fields(events, "sender", "recipient", "enhanced_status", "nrcpt") == [
        ("big-traced@senders.example", "postmaster@test.local", "5.3.4", None),
        ("big-traced@senders.example", None, "5.3.4", 2)]
    assert "1 more accepted recipient" in events[1].reply_text and parser.settle() == []
    # nothing names the envelope and the disconnect line comes first: both events when the log moves on
    events, parser = feed_all(LOST_TWO_RCPTS)
    assert events == []
    settled = parser.settle()
    assert fields(settled, "sender", "recipient", "client_ip", "reason", "nrcpt") == [
        (None, None, "127.0.0.29", "networkerror", None), (None, None, "127.0.0.29", "networkerror", 2)]
    assert len({e.source_key for e in settled}) == 2 and parser.stats.events == 3  # and one `received`
    for cut in range(len(LOST_TWO_RCPTS) + 1):  # and exactly so across a snapshot at any line
        first, before = feed_all(LOST_TWO_RCPTS[:cut])
        after = PostfixParser(reference=REF, tz=UTC)
        after.restore(json.loads(json.dumps(before.snapshot())))
        rest, _ = feed_all(LOST_TWO_RCPTS[cut:], after)
        assert [e.as_row() for e in [*first, *rest, *after.settle()]] == [e.as_row() for e in settled]
