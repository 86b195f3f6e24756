"""`bouncebot report`: text that lines up, JSON with the documented fields, plain notices, usage errors."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.events import TrackingEvent
from bot.ingest.runner import Ingestor
from bot.report.build import build_report
from bot.report.model import TOTAL_FIELDS, TRAFFIC_FIELDS
from bot.report.service import resolve_days
from bot.store import Store
from storage import queries
from storage.models import IngestCursor
from tests.support import shared_path

ZONE = ZoneInfo("UTC")


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--database", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def dev_log(tmp_path: Path) -> Path:
    log = tmp_path / "maillog"
    log.write_bytes(shared_path("corpus", "postfix", "dev-maillog.log").read_bytes())
    when = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    os.utime(log, (when, when))
    return log


def test_text_and_json_of_the_dev_scenario(db_url: str, dev_log: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BOUNCEBOT_DIGEST_TIMEZONE", "UTC")
    monkeypatch.setenv("TZ", "UTC")
    store = Store.open(db_url)
    Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(dev_log)
    store.dispose()
    code, out, err = run(capsys, db_url, "report", "--date", "2026-11-30", "--json", "--top", "3")
    assert code == 0 and err == ""
    found = json.loads(out)
    assert set(TOTAL_FIELDS) <= set(found["totals"])
    assert [h["hour"] for h in found["hours"]] == list(range(24))
    assert set(found["hours"][6]) == {"hour", *TRAFFIC_FIELDS}
    assert found["hours"][6] == {"hour": 6, "received": 14, "delivered": 18, "deferred": 1, "bounced": 7,
                                 "rejected": 9}
    assert len(found["top"]["senders_by_count"]) == 3
    assert found["top"]["senders_by_count"][0] == {"address": "p.oconnell@galway-marine.example", "messages": 3,
                                                   "bytes": 2646}
    assert found["now"]["deferred"] == 1 and found["now"]["oldest"][0]["queue_id"] == "0940616004F"
    assert {d["domain"] for d in found["recipient_domains"]} >= {"northwind-traders.example"}
    code, out, _ = run(capsys, db_url, "report", "--date", "2026-11-30")
    assert code == 0
    lines = out.splitlines()
    table = [line for line in lines if line.startswith("    0") or line.startswith("    1")
             or line.startswith("    2")]
    assert len(table) == 24 and len({len(line) for line in table}) == 1  # the columns line up
    header = next(line for line in lines if line.lstrip().startswith("time"))
    assert len(header) == len(table[0])
    assert " 14  received" in out and "9  rejected (33%)" in out


def test_a_period_has_a_row_per_day(db_url: str, dev_log: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BOUNCEBOT_DIGEST_TIMEZONE", "UTC")
    store = Store.open(db_url)
    Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(dev_log)
    store.dispose()
    code, out, _ = run(capsys, db_url, "report", "--since", "2026-11-28", "--until", "2026-12-01", "--json")
    assert code == 0
    found = json.loads(out)
    assert [d["date"] for d in found["days"]] == ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"]
    assert found["days"][2]["received"] == 14 and found["days"][0]["received"] == 0


@pytest.mark.parametrize(("args", "error"), [
    (["--date", "2026-13-45"], "not a date"),
    (["--date", "2026-11-30", "--since", "2026-11-01"], "not both"),
    (["--since", "2026-11-30", "--until", "2026-11-01"], "before it starts"),
    (["--until", "2026-11-30"], "--until needs --since"),
    (["--top", "0"], "--top"),
])
def test_bad_arguments_are_one_line(db_url: str, capsys, args, error) -> None:
    code, out, err = run(capsys, db_url, "report", *args)
    assert code == 2 and out == "" and error in err and len(err.splitlines()) == 1


def test_relative_days() -> None:
    today = date(2026, 12, 7)
    assert resolve_days(None, None, None, today=today) == (date(2026, 12, 6), date(2026, 12, 6))
    assert resolve_days("today", None, None, today=today) == (today, today)
    assert resolve_days(None, "7d", None, today=today) == (date(2026, 11, 30), today)


def _event(n: int, when: datetime, disposition: str) -> TrackingEvent:
    return TrackingEvent(time=when, source="test", source_key=f"r-{n}", direction="inbound",
                         disposition=disposition, sender=f"s{n}@a.example", recipient="u@b.example")


def test_empty_period_beyond_retention_and_ingesting_are_told_plainly(store: Store) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    with store.session() as session:
        queries.insert_events(session, [_event(1, now - timedelta(days=3, hours=2), "delivered").as_row(),
                                        _event(2, now - timedelta(hours=5), "delivered").as_row()])
        session.commit()
    with store.session() as session:
        empty = build_report(session, date(2026, 12, 5), date(2026, 12, 5), ZONE, now=now)
        assert empty.empty and any("No mail in the store for 2026-12-05" in n for n in empty.notices)
        old = build_report(session, date(2026, 10, 1), date(2026, 10, 1), ZONE, now=now)
        assert any("older than the 30-day retention" in n and "figures for those days are missing" in n
                   for n in old.notices)
        today = build_report(session, date(2026, 12, 7), date(2026, 12, 7), ZONE, now=now)
        assert any("events only up to 2026-12-07 07:00 UTC" in n for n in today.notices)
        assert any("has not happened yet" in n for n in today.notices)
        assert not any("ingest is still running" in n for n in today.notices)
        session.add(IngestCursor(source="postfix", stream="/var/log/mail.log", offset=10,
                                 updated_at=now - timedelta(seconds=30)))
        session.commit()
        running = build_report(session, date(2026, 12, 7), date(2026, 12, 7), ZONE, now=now)
        assert any("ingest is still running" in n for n in running.notices)
        full = build_report(session, date(2026, 12, 4), date(2026, 12, 4), ZONE, now=now)
        assert full.totals.delivered == 1 and not any("No mail" in n for n in full.notices)
