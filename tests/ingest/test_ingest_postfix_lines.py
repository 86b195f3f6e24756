"""The Postfix parser line by line: a table of real Postfix formats and what each must become."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.ingest.postfix import PostfixParser
from bot.ingest.syslog import StampError, SyslogClock

REF = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def parse_all(lines: list[str], **options) -> list:
    """The events of the lines, and those made when the log then goes quiet (as the runner does at its end)."""
    parser = PostfixParser(reference=options.pop("reference", REF), tz=options.pop("tz", UTC), **options)
    return [*(event for line in lines for event in parser.feed(line)), *parser.settle()]


def parse(lines: list[str], **options) -> list:
    """The outcomes only: without the one `received` event per queued message (tests/report checks those)."""
    return [event for event in parse_all(lines, **options) if event.disposition != "received"]


QUEUE = [  # one inbound message, then lines with the same queue id
    "Nov 30 10:00:00 mx postfix/smtpd[10]: connect from a.example[192.0.2.1]",
    "Nov 30 10:00:00 mx postfix/smtpd[10]: 4A1B2C3D4E: client=a.example[192.0.2.1]",
    "Nov 30 10:00:01 mx postfix/cleanup[11]: 4A1B2C3D4E: message-id=<m1@a.example>",
]

CASES = [
    # (name, lines, expected fields of the single event)
    ("milter reject at end of message", [
        *QUEUE,
        "Nov 30 10:00:02 mx postfix/cleanup[11]: 4A1B2C3D4E: milter-reject: END-OF-MESSAGE from a.example"
        "[192.0.2.1]: 5.7.1 Spam message rejected; from=<s@a.example> to=<u@our.example> proto=ESMTP helo=<a>"],
     dict(disposition="rejected", stage="END-OF-MESSAGE", smtp_code=None, enhanced_status="5.7.1",
          sender="s@a.example", recipient="u@our.example", message_id="<m1@a.example>", queue_id="4A1B2C3D4E",
          client_ip="192.0.2.1", rejected_by="gateway", reply_text="5.7.1 Spam message rejected")),
    ("reject with a queue id (a later recipient of a queued message)", [
        *QUEUE,
        "Nov 30 10:00:02 mx postfix/smtpd[10]: 4A1B2C3D4E: reject: RCPT from a.example[192.0.2.1]: 550 5.1.1 "
        "<x@our.example>: Recipient address rejected: User unknown in local recipient table; "
        "from=<s@a.example> to=<x@our.example> proto=ESMTP helo=<a.example>"],
     dict(disposition="rejected", stage="RCPT", smtp_code=550, enhanced_status="5.1.1", queue_id="4A1B2C3D4E",
          recipient="x@our.example", helo="a.example", direction="inbound")),
    ("header check reject", [
        *QUEUE,
        "Nov 30 10:00:02 mx postfix/cleanup[11]: 4A1B2C3D4E: reject: header Subject: cheap pills from "
        "a.example[192.0.2.1]; from=<s@a.example> to=<u@our.example> proto=ESMTP helo=<a.example>: "
        "5.7.1 No pills here"],
     dict(disposition="rejected", stage="DATA", enhanced_status="5.7.1", reply_text="5.7.1 No pills here",
          client_ip="192.0.2.1", sender="s@a.example")),
    ("header check hold", [
        *QUEUE,
        "Nov 30 10:00:02 mx postfix/cleanup[11]: 4A1B2C3D4E: hold: header X-Spam: yes from a.example[192.0.2.1]; "
        "from=<s@a.example> to=<u@our.example> proto=ESMTP helo=<a.example>"],
     dict(disposition="quarantined", queue_id="4A1B2C3D4E")),
    ("postscreen DNSBL reject", [
        "Nov 30 10:00:00 mx postfix/postscreen[20]: NOQUEUE: reject: RCPT from [192.0.2.9]:41234: 550 5.7.1 "
        "Service unavailable; client [192.0.2.9] blocked using zen.spamhaus.org; from=<x@spam.example>, "
        "to=<u@our.example>, proto=ESMTP, helo=<spam.example>"],
     dict(disposition="rejected", client_ip="192.0.2.9", client_host=None, dnsbl_zone="zen.spamhaus.org",
          sender="x@spam.example", recipient="u@our.example", helo="spam.example", smtp_code=550)),
    # postscreen's protocol tests judge the client (here: it talked before the banner): a refusal of the client by
    # our gateway's policy, however its RCPT-stage code reads (5.5.1 alone would say syntaxerror, transient)
    ("postscreen pregreet reject", [
        "Dec  7 21:14:56 mx1 postfix/postscreen[19764]: PREGREET 27 after 0 from [127.0.1.51]:50989: EHLO "
        "bulk-blaster.example\\r\\n",
        "Dec  7 21:14:56 mx1 postfix/postscreen[19764]: NOQUEUE: reject: RCPT from [127.0.1.51]:50989: 550 5.5.1 "
        "Protocol error; from=<mailer@bulk-blaster.example>, to=<ben.chen@larkspur-foods.example>, proto=ESMTP, "
        "helo=<bulk-blaster.example>"],
     dict(disposition="rejected", stage="RCPT", smtp_code=550, enhanced_status="5.5.1", reason="blocked",
          cause="gateway_policy", sender="mailer@bulk-blaster.example")),
    ("CONNECT stage reject", [
        "Nov 30 10:00:00 mx postfix/smtpd[10]: NOQUEUE: reject: CONNECT from unknown[192.0.2.7]: 554 5.7.1 "
        "<unknown[192.0.2.7]>: Client host rejected: Access denied; proto=SMTP"],
     dict(disposition="rejected", stage="CONNECT", sender=None, recipient=None, client_ip="192.0.2.7")),
    ("HELO stage reject", [
        "Nov 30 10:00:00 mx postfix/smtpd[10]: NOQUEUE: reject: HELO from unknown[192.0.2.7]: 504 5.5.2 <pc>: "
        "Helo command rejected: need fully-qualified hostname; proto=SMTP helo=<pc>"],
     dict(disposition="rejected", stage="HELO", helo="pc", smtp_code=504)),
    ("DATA stage reject", [
        "Nov 30 10:00:00 mx postfix/smtpd[10]: NOQUEUE: reject: DATA from a.example[192.0.2.1]: 550 5.5.3 "
        "<DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<a.example>"],
     dict(disposition="rejected", stage="DATA", sender=None)),
    ("long queue ids", [
        "Nov 30 10:00:00 mx postfix/qmgr[9]: 4Ns3Kq0Zp7z9Xyv: from=<me@our.example>, size=900, nrcpt=1 (queue active)",
        "Nov 30 10:00:01 mx postfix/smtp[12]: 4Ns3Kq0Zp7z9Xyv: to=<you@far.example>, "
        "relay=mx.far.example[203.0.113.9]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)"],
     dict(disposition="delivered", queue_id="4Ns3Kq0Zp7z9Xyv", sender="me@our.example", direction="outbound",
          smtp_code=250, rejected_by=None)),
    ("orig_to and conn_use", [
        "Nov 30 10:00:01 mx postfix/smtp[12]: 5B6C7D8E9F: to=<you@far.example>, orig_to=<alias@our.example>, "
        "relay=mx.far.example[203.0.113.9]:25, conn_use=2, delay=1, delays=0/0/0.5/0.5, dsn=4.2.0, "
        "status=deferred (host mx.far.example[203.0.113.9] said: 450 4.2.0 <you@far.example>: Recipient address "
        "rejected: Greylisted (in reply to RCPT TO command))"],
     dict(disposition="deferred", recipient="alias@our.example", smtp_code=450, enhanced_status="4.2.0",
          stage="RCPT", rejected_by="remote", direction="outbound", extra={"delivered_to": "you@far.example"})),
    ("remote refused to talk", [
        "Nov 30 10:00:01 mx postfix/smtp[12]: 5B6C7D8E9F: to=<you@far.example>, relay=mx.far.example"
        "[203.0.113.9]:25, delay=1, delays=0/0/0.5/0, dsn=5.7.1, status=bounced (host mx.far.example[203.0.113.9] "
        "refused to talk to me: 554 5.7.1 Your IP is listed in bl.example.net)"],
     dict(disposition="bounced", stage="CONNECT", smtp_code=554, rejected_by="remote", dnsbl_zone="bl.example.net")),
    ("connection trouble, no reply", [
        "Nov 30 10:00:01 mx postfix/smtp[12]: 5B6C7D8E9F: to=<you@far.example>, relay=none, delay=30, "
        "delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.far.example[203.0.113.9]:25: "
        "Connection timed out)"],
     dict(disposition="deferred", smtp_code=None, enhanced_status="4.4.1",
          reply_text="connect to mx.far.example[203.0.113.9]:25: Connection timed out")),
    ("local delivery agent bounce", [
        "Nov 30 10:00:01 mx postfix/local[13]: 6C7D8E9FA0: to=<gone@our.example>, relay=local, delay=0, "
        "delays=0/0/0/0, dsn=5.1.1, status=bounced (unknown user: \"gone\")"],
     dict(disposition="bounced", direction="inbound", rejected_by="gateway", enhanced_status="5.1.1")),
    ("error transport", [
        "Nov 30 10:00:01 mx postfix/error[14]: 6C7D8E9FA0: to=<old@our.example>, relay=none, delay=0, "
        "delays=0/0/0/0, dsn=5.0.0, status=bounced (User has moved)"],
     dict(disposition="bounced", direction="unknown", reply_text="User has moved")),
    ("custom syslog_name", [
        "Nov 30 10:00:01 mx postfix-out/smtp[15]: 7D8E9FA0B1: to=<x@far.example>, relay=mx.far.example"
        "[203.0.113.9]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)"],
     dict(disposition="delivered", direction="outbound")),
    ("RFC 3339 stamp", [
        "2026-11-30T11:00:01.123456+01:00 mx postfix/smtpd[16]: NOQUEUE: reject: RCPT from x[192.0.2.5]: 554 5.7.1 "
        "<s@x.example>: Sender address rejected: Access denied; from=<s@x.example> to=<u@our.example> proto=ESMTP "
        "helo=<x>"],
     dict(time=datetime(2026, 11, 30, 10, 0, 1, 123456, tzinfo=UTC), disposition="rejected")),
]


@pytest.mark.parametrize(("name", "lines", "expected"), CASES, ids=[c[0] for c in CASES])
def test_line_formats(name: str, lines: list[str], expected: dict) -> None:
    events = parse(lines)
    assert len(events) == 1, name
    event = events[0]
    for field, value in expected.items():
        assert getattr(event, field) == value, (name, field, getattr(event, field))


def test_lines_that_are_not_mail_make_no_events_and_foreign_lines_are_counted() -> None:
    parser = PostfixParser(reference=REF, tz=UTC)
    lines = [
        "Nov 30 10:00:00 mx postfix/anvil[1]: statistics: max connection rate 1/60s for (smtp:192.0.2.1)",
        "Nov 30 10:00:00 mx postfix/smtpd[10]: lost connection after RCPT from unknown[192.0.2.1]",
        "Nov 30 10:00:00 mx postfix/smtpd[10]: warning: hostname x.example does not resolve to address 192.0.2.1",
        "Nov 30 10:00:00 mx postfix/smtpd[10]: NOQUEUE: reject: VRFY from x[192.0.2.1]: 502 5.5.1 VRFY disabled",
        "Nov 30 10:00:00 mx postfix/smtpd[10]: NOQUEUE: filter: RCPT from x[192.0.2.1]: <x>: Client host triggers "
        "FILTER smtp:[127.0.0.1]:10025; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
        "Nov 30 10:00:00 mx postfix/verify[3]: 1A2B3C4D5E: to=<c@d.example>, relay=none, delay=0, delays=0/0/0/0, "
        "dsn=2.0.0, status=deliverable (address verification)",
        "Nov 30 10:00:00 mx dovecot: imap-login: Login: user=<u>",
        "Nov 30 10:00:00 mx opendkim[5]: 1A2B3C4D5E: DKIM-Signature field added",
        "this is not a syslog line",
        "",
    ]
    events = [e for line in lines for e in parser.feed(line)]
    assert events == []
    assert parser.stats.lines == len(lines)
    assert parser.stats.skipped == 4
    assert set(parser.stats.examples) == {"other program", "malformed"}


def test_queue_file_size_limit_without_size_declaration() -> None:
    events = parse([
        *QUEUE,
        "Nov 30 10:00:02 mx postfix/cleanup[11]: warning: 4A1B2C3D4E: queue file size limit exceeded",
        "Nov 30 10:00:02 mx postfix/smtpd[10]: disconnect from a.example[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=0/1 "
        "quit=1 commands=4/5",
    ])
    assert len(events) == 1
    event = events[0]
    assert (event.disposition, event.smtp_code, event.enhanced_status, event.client_ip, event.message_id) == (
        "rejected", 552, "5.3.4", "192.0.2.1", "<m1@a.example>")
    assert "queue file size limit exceeded" in event.reply_text


def test_deferred_then_expired_names_each_waiting_recipient_with_its_last_reason() -> None:
    head = "Nov 30 10:00:01 mx postfix/smtp[12]: 8E9FA0B1C2: to=<{r}>, relay=mx.far.example[203.0.113.9]:25, " \
           "delay=1, delays=0/0/0.5/0.5, dsn=4.7.1, status=deferred (host mx.far.example[203.0.113.9] said: " \
           "451 4.7.1 Try later (in reply to RCPT TO command))"
    events = parse([
        "Nov 30 10:00:00 mx postfix/qmgr[9]: 8E9FA0B1C2: from=<me@our.example>, size=900, nrcpt=2 (queue active)",
        head.format(r="a@far.example"), head.format(r="b@far.example"),
        "Dec  5 10:00:00 mx postfix/qmgr[9]: 8E9FA0B1C2: from=<me@our.example>, status=expired, returned to sender",
    ], reference=datetime(2026, 12, 6, tzinfo=UTC))
    expired = [e for e in events if e.disposition == "expired"]
    assert [(e.recipient, e.smtp_code, e.sender) for e in expired] == [
        ("a@far.example", 451, "me@our.example"), ("b@far.example", 451, "me@our.example")]
    assert len({e.source_key for e in events}) == 4


def test_local_domains_decide_direction() -> None:
    lines = [
        "Nov 30 10:00:01 mx postfix/smtp[12]: 9FA0B1C2D3: to=<u@our.example>, relay=exchange.our.example"
        "[10.0.0.5]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)",
        "Nov 30 10:00:02 mx postfix/smtpd[10]: NOQUEUE: reject: RCPT from gw.our.example[10.0.0.9]: 554 5.7.1 "
        "<x@far.example>: Relay access denied; from=<me@sub.our.example> to=<x@far.example> proto=ESMTP helo=<gw>",
    ]
    assert [e.direction for e in parse(lines)] == ["outbound", "inbound"]
    assert [e.direction for e in parse(lines, local_domains=["our.example"])] == ["inbound", "outbound"]


def test_identical_lines_are_distinct_events_and_keys_do_not_depend_on_the_path() -> None:
    line = ("Nov 30 10:00:00 mx postfix/smtpd[10]: NOQUEUE: reject: RCPT from x[192.0.2.5]: 550 5.1.1 <u@our.example>: "
            "Recipient address rejected: User unknown; from=<s@x.example> to=<u@our.example> proto=ESMTP helo=<x>")
    first = parse([line, line])
    assert len({e.source_key for e in first}) == 2
    again = parse([line, line])
    assert [e.source_key for e in again] == [e.source_key for e in first]
    a_year_later = parse([line], reference=REF + timedelta(days=365))
    assert a_year_later[0].source_key != first[0].source_key


def test_snapshot_is_json_and_restoring_it_continues_exactly() -> None:
    lines = [
        *QUEUE,
        "Nov 30 10:00:01 mx postfix/qmgr[9]: 4A1B2C3D4E: from=<s@a.example>, size=900, nrcpt=2 (queue active)",
        "Nov 30 10:00:02 mx postfix/smtpd[10]: disconnect from a.example[192.0.2.1] ehlo=1 mail=1 rcpt=4 data=1 "
        "quit=1 commands=8",
        "Nov 30 10:00:02 mx postfix/local[13]: 4A1B2C3D4E: to=<u@our.example>, relay=local, delay=0, delays=0/0/0/0,"
        " dsn=2.0.0, status=sent (delivered to mailbox)",
    ]
    whole = parse_all(lines)
    for cut in range(len(lines) + 1):
        first = PostfixParser(reference=REF, tz=UTC)
        events = [e for line in lines[:cut] for e in first.feed(line)]
        second = PostfixParser(reference=REF, tz=UTC)
        second.restore(json.loads(json.dumps(first.snapshot())))
        events += [e for line in lines[cut:] for e in second.feed(line)]
        assert [(e.source_key, e.as_row()) for e in events] == [(e.source_key, e.as_row()) for e in whole], cut
    assert [(e.disposition, e.reason) for e in whole] == [
        ("received", None), ("rejected", "toomanyconn"), ("rejected", "toomanyconn"), ("delivered", "delivered")]


def test_classic_stamps_get_their_year_from_the_reference_with_roll_over() -> None:
    clock = SyslogClock(datetime(2027, 1, 2, 3, 0, tzinfo=UTC), UTC)
    assert clock.classic("Dec 31 23:59:59")[1] == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert clock.classic("Jan  2 02:00:00")[1] == datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
    assert clock.classic("Jan  3 01:00:00")[1].year == 2027  # within a day after the reference: clock skew
    leap = SyslogClock(datetime(2027, 3, 1, tzinfo=UTC), UTC)
    assert leap.classic("Feb 29 10:00:00")[1] == datetime(2024, 2, 29, 10, 0, tzinfo=UTC)
    old = SyslogClock(datetime(1, 6, 1, tzinfo=UTC), UTC)
    assert old.classic("Dec 31 10:00:00")[1].year >= 1
    berlin = SyslogClock(datetime(2026, 7, 2, tzinfo=UTC), timezone(timedelta(hours=2)))
    assert berlin.classic("Jul  1 12:00:00")[1] == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    for bad in ("Foo 30 10:00:00", "Nov 3x 10:00:00", "Nov 30 10-00-00"):
        with pytest.raises(StampError):
            clock.classic(bad)
