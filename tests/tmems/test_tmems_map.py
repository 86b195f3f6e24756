"""The mapping tables, record by record: every action, several blocked reasons, policy events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import PolicyLimits, Settings
from bot.ingest.tmems_map import ACCEPTED, BLOCKED, POLICY, BadRecord, Mapper, parse_time, reply_code, source_key
from bot.reasons import classify
from tests.tmems.records import ANY, MB, accepted, blocked, policy_event, samples

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SAMPLES = samples(NOW)


def _id(expect) -> str:
    record = expect.record
    return f"{expect.kind}:{record.get('action') or record.get('reason') or record.get('eventType')}"


@pytest.mark.parametrize("expect", SAMPLES, ids=[_id(e) for e in SAMPLES])
def test_every_sample_maps_to_its_disposition_reason_and_cause(expect) -> None:
    [event] = Mapper(Settings()).map(expect.kind, expect.record)
    assert event.source == "tmems"
    assert event.disposition == expect.disposition
    assert event.direction == expect.direction
    if expect.reason is not ANY:
        assert event.reason == expect.reason
    if expect.cause is not ANY:
        assert event.cause == expect.cause


def test_every_documented_action_is_covered_by_the_samples() -> None:
    actions = {e.record["action"] for e in SAMPLES if e.kind == ACCEPTED}
    assert {"Delivered", "Bounced", "Deleted", "Expired", "Temporary delivery error", "Quarantined", "Redirected",
            "Deferred"} <= actions
    assert len({e.record["reason"] for e in SAMPLES if e.kind == BLOCKED}) >= 6


def test_downstream_replies_are_classified_with_side_remote() -> None:
    details = "host mx.partner.example[198.51.100.20] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command)"
    record = accepted(NOW, action="Bounced", sender="erin@ourcorp.example", recipient="kim@partner.example",
                      direction="out", details=details)
    [event] = Mapper(Settings()).map(ACCEPTED, record)
    expected = classify(smtp_code=552, enhanced_status="5.2.2", text=details, side="remote",
                        disposition="bounced", host="mx.partner.example")
    assert (event.reason, event.cause) == (expected.reason, expected.cause)
    assert (event.smtp_code, event.enhanced_status, event.rejected_by) == (552, "5.2.2", "remote")
    assert event.reply_text == details


def test_expired_is_a_final_bounce_of_a_temporary_failure_with_the_last_reply_as_evidence() -> None:
    details = "host mx.partner.example[198.51.100.20] said: 451 4.3.0 Temporary local problem"
    record = accepted(NOW, action="Expired", sender="a@ourcorp.example", recipient="b@partner.example",
                      direction="out", details=details)
    [event] = Mapper(Settings()).map(ACCEPTED, record)
    assert (event.disposition, event.reason, event.cause) == ("expired", "expired", "transient")
    assert (event.reply_text, event.smtp_code, event.rejected_by) == (details, 451, "remote")


def test_an_unknown_action_is_unknown_and_counted() -> None:
    mapper = Mapper(Settings())
    [event] = mapper.map(ACCEPTED, accepted(NOW, action="Teleported", sender="a@x.example", recipient="b@y.example"))
    assert (event.disposition, event.reason, event.cause) == ("accepted", "undefined", None)
    assert mapper.unmapped == 1


def test_size_is_checked_against_the_configured_policy_limit() -> None:
    record = blocked(NOW, reason="Permanent", sender="a@x.example", recipient="b@ourcorp.example", size=12 * MB)
    [default] = Mapper(Settings()).map(BLOCKED, record)
    assert default.reason != "mesgtoobig"  # 12 MB is under the 50 MB default
    [strict] = Mapper(Settings(policy=PolicyLimits(max_message_mb=10))).map(BLOCKED, record)
    assert (strict.reason, strict.cause) == ("mesgtoobig", "gateway_policy")


def test_unknown_blocked_reason_falls_back_to_the_classifier_on_the_gateway_side() -> None:
    details = "554 5.7.1 Client host [203.0.113.7] blocked using bl.spamcop.net"
    record = blocked(NOW, reason="Permanent", sender="a@x.example", recipient="b@ourcorp.example", details=details)
    mapper = Mapper(Settings())
    [event] = mapper.map(BLOCKED, record)
    assert (event.reason, event.cause, event.dnsbl_zone) == ("blocked", "gateway_reputation", "bl.spamcop.net")
    assert mapper.unmapped == 1


def test_a_policy_event_makes_one_event_per_recipient() -> None:
    record = policy_event(NOW, event_type="Web Reputation", policy_name="URL policy", policy_action="Quarantine",
                          sender="bulk@x.example", recipients=["a@ourcorp.example", "b@ourcorp.example"])
    assert "mailID" not in record
    events = Mapper(Settings()).map(POLICY, record)
    assert [e.recipient for e in events] == ["a@ourcorp.example", "b@ourcorp.example"]
    assert len({e.source_key for e in events}) == 2
    assert all((e.disposition, e.reason, e.cause) == ("quarantined", "spamdetected", "gateway_policy")
               for e in events)
    assert all(e.message_id == record["messageID"] and e.queue_id is None for e in events)
    assert "URL policy" in (events[0].reply_text or "")


def test_direction_falls_back_to_our_domains() -> None:
    record = blocked(NOW, reason="Recipient invalid", sender="a@x.example", recipient="typo@ourcorp.example")
    record.pop("direction")
    [unknown] = Mapper(Settings()).map(BLOCKED, record)
    [inbound] = Mapper(Settings(local_domains=("ourcorp.example",))).map(BLOCKED, record)
    assert (unknown.direction, inbound.direction) == ("unknown", "inbound")


def test_the_source_key_is_deterministic_and_distinguishes_type_recipient_and_time() -> None:
    record = accepted(NOW, action="Delivered", sender="a@x.example", recipient="b@ourcorp.example")
    mapper = Mapper(Settings())
    [one], [two] = mapper.map(ACCEPTED, record), mapper.map(ACCEPTED, dict(record))
    assert one.source_key == two.source_key and len(one.source_key) <= 128
    keys = {source_key("accepted_traffic", "m", "r", "Delivered", "t"),
            source_key("blocked_traffic", "m", "r", "Delivered", "t"),
            source_key("accepted_traffic", "m", "r2", "Delivered", "t"),
            source_key("accepted_traffic", "m", "r", "Delivered", "t2")}
    assert len(keys) == 4


def test_the_mail_id_fits_the_queue_id_column() -> None:
    record = accepted(NOW, action="Delivered", sender="a@x.example", recipient="b@ourcorp.example",
                      mail_id="7ea8f636-c26e-4b78-a341-9b5becb83db7")
    [event] = Mapper(Settings()).map(ACCEPTED, record)
    assert event.queue_id == "7ea8f636c26e4b78a3419b5becb83db7"


@pytest.mark.parametrize("record", [
    {"sender": "a@x.example", "recipient": "b@y.example", "action": "Delivered"},           # no time at all
    {"genTime": "yesterday", "recipient": "b@y.example", "action": "Delivered", "mailID": "m"},  # bad time
    {"genTime": "2026-11-30T08:00:00Z", "action": "Delivered"},                           # nothing to name it by
])
def test_malformed_records_raise_bad_record(record) -> None:
    with pytest.raises(BadRecord):
        Mapper(Settings()).map(ACCEPTED, record)


def test_times_in_every_documented_form() -> None:
    expected = datetime(2016, 7, 22, 1, 51, 31, tzinfo=UTC)
    assert parse_time("2016-07-22T01:51:31Z") == expected
    assert parse_time("2016-07-22T01:51:31.001Z") == expected + timedelta(milliseconds=1)
    assert parse_time(1469152291) == expected
    assert parse_time(1469152291000) == expected
    assert parse_time("") is None and parse_time("soon") is None


def test_reply_codes_are_not_taken_from_addresses() -> None:
    assert reply_code("host mx[198.51.100.250] said: 452 4.2.2 Mailbox full") == (452, "4.2.2")
    assert reply_code("Client host [203.0.113.250] refused") == (None, None)
    assert reply_code("5.7.1 Rejected") == (None, "5.7.1")


@pytest.mark.parametrize("change", [
    {"recipient": "x" * 300 + "@" + "d" * 30 + ".example"},     # longer than an address can be
    {"sender": "a@" + "d" * 260 + ".example"},                  # a domain longer than 253
])
def test_oversized_addresses_are_malformed_not_a_stuck_window(change) -> None:
    record = {**accepted(NOW, action="Delivered", sender="a@x.example", recipient="b@y.example"), **change}
    with pytest.raises(BadRecord, match="longer than an address"):
        Mapper(Settings()).map(ACCEPTED, record)


def test_odd_values_do_not_crash_the_mapper() -> None:
    record = accepted(NOW, action="Delivered", sender="a@x.example", recipient="b@y.example")
    record.update(senderIP="x" * 80, size="big", details={"nested": ["json"]}, deliveredTo=None)
    [event] = Mapper(Settings()).map(ACCEPTED, record)
    assert event.client_ip is None and event.size is None
    assert parse_time(True) is None and parse_time(10**30) is None


def test_values_the_columns_cannot_hold_are_dropped() -> None:
    zone = "z" * 300 + ".example"
    record = blocked(NOW, reason="Permanent", sender="a@x.example", recipient="b@ourcorp.example",
                     details=f"554 5.7.1 blocked using {zone}", size=10**30)
    [event] = Mapper(Settings()).map(BLOCKED, record)
    assert event.size is None and event.dnsbl_zone is None
