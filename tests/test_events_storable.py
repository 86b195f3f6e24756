"""Whatever a log line carries, its event row is storable on both databases (the field pays, not the batch)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.events import TrackingEvent
from bot.store import Store
from storage import queries


def test_hostile_values_are_cleaned_not_fatal(store: Store) -> None:
    event = TrackingEvent(
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC), source="test", source_key="hostile",
        direction="inbound", disposition="rejected", sender="bad\x00guy@partner.example",
        recipient="x\ud800y@ours.example", helo="h" * 400, reply_text="nul\x00 inside", size=2**70,
        nrcpt=-3, smtp_code=55555,
    )
    row = event.as_row()
    assert row["sender"] == "badguy@partner.example" and "\x00" not in row["reply_text"]
    assert row["recipient"].startswith("x\ufffd") and row["recipient"].endswith("y@ours.example")
    assert len(row["helo"]) == 255 and row["helo"].endswith("…")
    assert row["size"] is None and row["nrcpt"] is None and row["smtp_code"] is None
    with store.session() as s:
        assert queries.insert_events(s, [row, TrackingEvent(
            time=event.time, source="test", source_key="next", direction="inbound", disposition="rejected",
            sender="ok@partner.example").as_row()]) == 2
        s.commit()
        stored = queries.events_for(s, "domain", "partner.example")
    assert {e.sender for e in stored} == {"badguy@partner.example", "ok@partner.example"}
