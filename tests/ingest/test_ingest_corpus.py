"""The Postfix parser against the real Postfix log of the shared corpus and its answer key."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from bot.events import TrackingEvent
from bot.ingest.postfix import PostfixParser
from bot.vocab import Direction, Disposition
from tests.support import shared_path

#: What the key phrase of each case's reply is (read from the log: the answer key quotes them in its notes).
REPLY = {
    "a": "552 5.3.4 Message size exceeds fixed limit",
    "b": "452 4.5.3 Error: too many recipients",
    "c": "Recipient address rejected: User unknown in local recipient table",
    "d": "554 5.7.1 <billing@invoice-alerts.example>: Sender address rejected: Access denied",
    "e": "Sender address rejected: Mail from this domain is not accepted here",
    "f": "Client host rejected: Access denied",
    "g": "Client host [127.0.1.27] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.1.27",
    "h": "Client host [127.0.1.28] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?127.0.1.28",
    "i": "504 5.5.2 <DESKTOP-7QK2M1>: Helo command rejected: need fully-qualified hostname",
    "j": "delivered to mailbox",
    "k": "Recipient address rejected: User unknown in local recipient table",
    "l": "550 5.1.1 <k.bauer@hanse-logistik.example>: Recipient address rejected: User unknown in virtual "
         "mailbox table",
    "m": "552 5.2.2 <h.larsen@nordic-fjord.example> Quota exceeded (mailbox for user is full)",
    "n": "550-5.7.26 Unauthenticated email from northwind-traders.example is not 550-5.7.26 accepted due to "
         "domain's DMARC policy",
    "o": "550 5.7.606 Access denied, banned sending IP [203.0.113.45]",
    "p": "554 5.7.1 Service unavailable; Client host [203.0.113.45] blocked using b.barracudacentral.org",
    "q": "550 5.7.1 Message rejected as spam by Content Filtering.",
    "r": "552 5.3.4 Message size exceeds fixed maximum message size",
    "s": "451 Temporary local problem - please try later",
    "t": "250 2.0.0 Ok: queued as",
}


@pytest.fixture(scope="module")
def corpus() -> tuple[list[dict], list[TrackingEvent], str]:
    log = shared_path("corpus", "postfix", "dev-maillog.log")
    cases = json.loads(shared_path("corpus", "postfix", "dev-expected.json").read_text())
    parser = PostfixParser(reference=datetime.fromtimestamp(os.stat(log).st_mtime, UTC))
    events = [event for line in log.read_text().splitlines() for event in parser.feed(line)]
    assert parser.stats.skipped == 0, parser.stats.examples
    return cases, events, log.read_text()


def _expected_disposition(case: dict) -> str:
    if case["expected_cause"] == "delivered":
        return Disposition.DELIVERED
    if case["expected_cause"] == "transient":
        return Disposition.DEFERRED
    return Disposition.REJECTED if case["direction"] == "inbound" else Disposition.BOUNCED


def test_every_case_is_found_with_direction_disposition_recipients_ip_and_reply(corpus) -> None:
    cases, events, _text = corpus
    assert len(cases) == 20
    for case in cases:
        mine = [e for e in events if (e.sender or "").lower() == case["sender"]]
        disposition = _expected_disposition(case)
        outcome = [e for e in mine if e.disposition == disposition]
        assert outcome, f"case {case['case']}: no {disposition} event for {case['sender']}"
        for event in outcome:
            assert event.direction == case["direction"], (case["case"], event)
            if case["direction"] == Direction.INBOUND:
                assert event.client_ip == case["client_ip"], (case["case"], event)
            assert event.source_key.startswith("postfix:")
            assert event.time.year >= 2000 and event.time.tzinfo is not None
        # Recipients: every expected recipient that the log names has its event; the ones the log never
        # names (over the recipient limit, or a MAIL-stage reject) are events without a recipient.
        named = {e.recipient for e in outcome if e.recipient}
        unnamed = [e for e in outcome if not e.recipient]
        if case["case"] == "b":  # 6 delivered, 3 refused over smtpd_recipient_limit
            delivered = {e.recipient for e in mine if e.disposition == Disposition.DELIVERED}
            assert delivered | named == set(case["recipients"][:6])
            assert len(unnamed) == 3 and len(delivered) + len(unnamed) == len(case["recipients"])
        elif case["case"] == "a":  # refused at MAIL FROM: the line has from= but no to=
            assert not named and len(unnamed) == 1
        else:
            assert named == set(case["recipients"]) and not unnamed, case["case"]
        assert any(REPLY[case["case"]] in (e.reply_text or "") for e in outcome), (case["case"], outcome)


def test_dnsbl_zones_and_who_rejected(corpus) -> None:
    cases, events, _text = corpus
    for case in cases:
        disposition = _expected_disposition(case)
        outcome = [e for e in events if (e.sender or "").lower() == case["sender"] and e.disposition == disposition]
        assert {e.dnsbl_zone for e in outcome} == {case["dnsbl_zone"]}, case["case"]
        if disposition == Disposition.REJECTED:
            assert {e.rejected_by for e in outcome} == {"gateway"}
        elif disposition == Disposition.BOUNCED:
            assert {e.rejected_by for e in outcome} == {"remote"}
        else:
            assert {e.rejected_by for e in outcome} <= {None, "remote"}


def test_codes_stages_and_the_inferred_recipient_limit(corpus) -> None:
    _cases, events, _text = corpus
    by_sender = {}
    for event in events:
        by_sender.setdefault(event.sender, []).append(event)
    size = by_sender["m.ferreira@lisbon-textiles.example"][0]
    assert (size.smtp_code, size.enhanced_status, size.stage, size.recipient) == (552, "5.3.4", "MAIL", None)
    gmail = next(e for e in by_sender["claire.dubois@northwind-traders.example"] if e.disposition == "bounced")
    assert (gmail.smtp_code, gmail.enhanced_status, gmail.stage) == (550, "5.7.26", "END-OF-MESSAGE")
    assert gmail.reply_text.endswith("https://support.google.com/mail/?p=DmarcRejection lvqof6ujrr.7 - gsmtp")
    assert gmail.relay == "gmail-smtp-in.l.google.com[127.0.2.13]:25"
    assert gmail.message_id == "<179601999938.663.833309473214732123@northwind-traders.example>"
    assert gmail.queue_id == "5D7A8160040" and gmail.size == 852 and gmail.nrcpt == 1
    over = [e for e in by_sender["newsletter@eventhall-berlin.example"] if e.disposition == "rejected"]
    assert {(e.reason, e.cause, e.smtp_code, e.enhanced_status, e.queue_id) for e in over} == {
        ("toomanyconn", "gateway_policy", 452, "4.5.3", "B1B5916004C")}
    assert "9 accepted RCPT commands against 6 queued" in over[0].reply_text
    assert len({e.source_key for e in events}) == len(events)
    deferred = next(e for e in by_sender["ava.thompson@northwind-traders.example"] if e.disposition != "received")
    assert (deferred.disposition, deferred.smtp_code, deferred.enhanced_status, deferred.stage) == (
        "deferred", 451, "4.0.0", "RCPT")


def test_bounce_notices_are_local_deliveries_from_the_null_sender(corpus) -> None:
    _cases, events, _text = corpus
    notices = [e for e in events if not e.sender and e.disposition == "delivered"]
    assert len(notices) == 7
    assert {e.direction for e in notices} == {"inbound"}
    assert all(e.relay == "local" for e in notices)
