"""The report from JSON Lines and TMEMS events: the same computation, on both databases."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import Settings
from bot.ingest.runner import Ingestor
from bot.ingest.tmems_map import ACCEPTED, BLOCKED, Mapper
from bot.report.build import build_report
from bot.store import Store
from storage import queries
from storage.db import make_engine, upgrade
from storage.models import EVENT_COLUMNS, Event
from tests.support import shared_path
from tests.tmems.records import accepted, blocked

ZONE = ZoneInfo("UTC")
DAY = date(2026, 11, 30)
LATER = datetime(2026, 12, 2, tzinfo=UTC)
#: Columns a JSON Lines record carries (docs/jsonl.md); the domain columns are derived again on import.
JSONL_FIELDS = [c for c in EVENT_COLUMNS if c not in ("sender_domain", "sender_domain_rev", "recipient_domain")]


def _dev_store(url: str, tmp_path: Path) -> Store:
    log = tmp_path / "maillog"
    log.write_bytes(shared_path("corpus", "postfix", "dev-maillog.log").read_bytes())
    when = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(log, (when, when))
    store = Store.open(url)
    Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(log)
    return store


def _fresh(tmp_path: Path, name: str) -> Store:
    url = f"sqlite:///{tmp_path / name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return Store.open(url)


def _report(store: Store) -> dict:
    with store.session() as session:
        found = build_report(session, DAY, DAY, ZONE, now=LATER).to_json()
    found.pop("notices")
    return found


def test_the_postfix_events_exported_as_json_lines_give_the_same_report(db_url: str, tmp_path: Path) -> None:
    postfix = _dev_store(db_url, tmp_path)
    with postfix.session() as session:
        events = list(session.scalars(select(Event).order_by(Event.time, Event.id)))
    path = tmp_path / "events.jsonl"
    with path.open("w") as out:
        for event in events:
            record = {name: getattr(event, name) for name in JSONL_FIELDS if getattr(event, name) is not None}
            record["time"] = event.time.isoformat()
            out.write(json.dumps(record) + "\n")
    jsonl = _fresh(tmp_path, "jsonl.db")
    try:
        result = Ingestor(jsonl, "jsonl").ingest(path)
        assert result.stats.skipped == 0, result.stats.examples
        expected = _report(postfix)
        assert expected["totals"]["received"] == 14 and expected["totals"]["rejected"] == 9
        assert _report(jsonl) == expected
    finally:
        postfix.dispose()
        jsonl.dispose()


def test_tmems_events_are_reported_each_message_received_once(store: Store) -> None:
    at = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    mapper = Mapper(Settings())
    records = [
        (ACCEPTED, accepted(at, action="Delivered", sender="a@partner.example", recipient="u1@ourcorp.example",
                            size=2_000, mail_id="11111111-aaaa")),
        (ACCEPTED, accepted(at + timedelta(seconds=1), action="Delivered", sender="a@partner.example",
                            recipient="u2@ourcorp.example", size=2_000, mail_id="11111111-aaaa",
                            message_id="<same@partner.example>")),
        (ACCEPTED, accepted(at + timedelta(hours=2), action="Delivered", sender="b@other.example",
                            recipient="u1@ourcorp.example", size=5_000)),
        (BLOCKED, blocked(at + timedelta(hours=3), reason="Sender IP on a blocked list", sender="x@spam.example",
                          recipient="u3@ourcorp.example")),
    ]
    records[0][1]["messageID"] = "<same@partner.example>"
    events = [e for kind, record in records for e in mapper.map(kind, record)]
    with store.session() as session:
        queries.insert_events(session, [e.as_row() for e in events])
        session.commit()
    with store.session() as session:
        report = build_report(session, DAY, DAY, ZONE, now=LATER)
    dispositions = sorted(e.disposition for e in events)
    t = report.totals
    assert t.received == 2  # two messages got in (one with two recipients); the blocked one did not
    assert t.delivered == dispositions.count("delivered") == 3
    assert t.rejected + t.held + t.discarded == 1
    assert (t.bytes_received, t.senders, t.sending_domains) == (7_000, 2, 2)
    assert (t.recipients, t.recipient_domains) == (2, 1)
    assert report.hours[9].received == 1 and report.hours[11].received == 1
    assert report.hours[9].delivered == 2 and report.hours[11].delivered == 1
