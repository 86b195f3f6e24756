"""The JSON Lines importer: the documented schema, bad records with line numbers, idempotence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.ingest.base import KeyMaker
from bot.ingest.jsonl import BadRecord, JsonlParser, parse_time, record_to_event
from bot.ingest.runner import Ingestor
from bot.store import Store
from storage.models import Event

GOOD = {"time": "2026-11-30T06:26:38Z", "disposition": "rejected", "direction": "inbound",
        "sender": "info@quickloans-now.example", "recipient": "carla.diaz@northwind-traders.example",
        "client_ip": "203.0.113.27", "smtp_code": 554, "enhanced_status": "5.7.1", "stage": "RCPT",
        "reply_text": "554 5.7.1 Service unavailable; Client host [203.0.113.27] blocked using zen.spamhaus.org"}


def event_of(record: dict):
    return record_to_event(record, KeyMaker("jsonl"), json.dumps(record))


def test_a_full_record_becomes_an_event_with_classification_and_zone() -> None:
    event = event_of(GOOD)
    assert event.time == datetime(2026, 11, 30, 6, 26, 38, tzinfo=UTC)
    assert (event.direction, event.disposition, event.smtp_code, event.stage) == ("inbound", "rejected", 554, "RCPT")
    assert event.dnsbl_zone == "zen.spamhaus.org"
    assert event.cause == "gateway_reputation" and event.reason
    assert event.source == "jsonl" and event.source_key.startswith("jsonl:")


def test_given_reason_cause_zone_source_and_key_are_kept() -> None:
    event = event_of({**GOOD, "reason": "blocked", "cause": "gateway_policy", "dnsbl_zone": None,
                      "source": "acme-gw", "source_key": "m-1"})
    assert (event.reason, event.cause, event.dnsbl_zone) == ("blocked", "gateway_policy", None)
    assert (event.source, event.source_key) == ("acme-gw", "acme-gw:m-1")


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-30T07:26:38+01:00", datetime(2026, 11, 30, 6, 26, 38, tzinfo=UTC)),
    ("2026-11-30 06:26:38", datetime(2026, 11, 30, 6, 26, 38, tzinfo=UTC)),
    ("2026-11-30T06:26:38.250Z", datetime(2026, 11, 30, 6, 26, 38, 250000, tzinfo=UTC)),
    (1796020000, datetime.fromtimestamp(1796020000, UTC)),
    (1796020000.5, datetime.fromtimestamp(1796020000.5, UTC)),
    (1796020000000, datetime.fromtimestamp(1796020000, UTC)),
])
def test_time_formats(value, expected) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(("record", "why"), [
    ([1, 2], "a record must be a JSON object"),
    ({"disposition": "rejected", "sender": "a@b"}, "time is required"),
    ({**GOOD, "time": "30/11/2026"}, "is not RFC 3339"),
    ({**GOOD, "time": True}, "time must be"),
    ({**GOOD, "time": 1e300}, "out of range"),
    ({k: v for k, v in GOOD.items() if k != "disposition"}, "disposition is required"),
    ({**GOOD, "disposition": "lost"}, "disposition must be one of"),
    ({**GOOD, "direction": "sideways"}, "direction must be one of"),
    ({"time": GOOD["time"], "disposition": "delivered"}, "one of sender, recipient, client_ip, message_id"),
    ({**GOOD, "smtp_code": "554"}, "smtp_code must be a whole number"),
    ({**GOOD, "smtp_code": 999}, "between 200 and 599"),
    ({**GOOD, "size": -1}, "size must be a whole number"),
    ({**GOOD, "sender": ["a@b"]}, "sender must be text"),
    ({**GOOD, "sender": "a" * 400 + "@b"}, "longer than 320"),
    ({**GOOD, "reason": "bad-luck"}, "reason must be one of"),
    ({**GOOD, "cause": "gremlins"}, "cause must be one of"),
    ({**GOOD, "rejected_by": "nobody"}, "rejected_by must be one of"),
    ({**GOOD, "source": "x" * 40}, "source must be text"),
    ({**GOOD, "source_key": {"a": 1}}, "source_key must be text"),
    ({**GOOD, "dnsbl_zone": 5}, "dnsbl_zone must be text"),
])
def test_bad_records_say_what_is_wrong(record, why: str) -> None:
    with pytest.raises(BadRecord, match=why):
        event_of(record)


def test_the_parser_counts_bad_lines_with_their_numbers() -> None:
    parser = JsonlParser()
    lines = [json.dumps(GOOD), "", "{not json", json.dumps({**GOOD, "time": "yesterday"}), "[" * 100_000,
             json.dumps({**GOOD, "recipient": "other@northwind-traders.example"})]
    events = [e for line in lines for e in parser.feed(line)]
    assert len(events) == 2 and parser.stats.events == 2
    assert parser.stats.skipped == 3
    examples = parser.stats.examples["bad record"]
    assert examples[0].startswith("line 3: not JSON")
    assert examples[1].startswith("line 4: time 'yesterday' is not RFC 3339")
    assert examples[2].startswith("line 5: ")


def test_identical_records_are_two_events_and_a_reimport_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "gw.jsonl"
    path.write_text("\n".join([json.dumps(GOOD), json.dumps(GOOD), json.dumps({**GOOD, "source_key": "k1"}),
                               "garbage", json.dumps({**GOOD, "source": "acme", "source_key": "k1"})]) + "\n")
    first = Ingestor(store, "jsonl").ingest(path)
    assert (first.stats.events, first.new_events, first.stats.skipped) == (4, 4, 1)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    assert Ingestor(store, "jsonl").ingest(copy).new_events == 0
    with path.open("a") as out:  # appended later: only the new line is read, its line number continues
        out.write("{bad\n" + json.dumps({**GOOD, "time": "2026-11-30T07:00:00Z"}) + "\n")
    later = Ingestor(store, "jsonl").ingest(path)
    assert (later.stats.lines, later.new_events) == (2, 1)
    assert later.stats.examples["bad record"][0].startswith("line 6: ")
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Event)) == 5
        sources = dict(conn.execute(select(Event.source, func.count()).group_by(Event.source)).all())
    assert sources == {"jsonl": 4, "acme": 1}
