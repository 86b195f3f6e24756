"""Whatever a log line carries, its event row is storable on both databases (the field pays, not the batch)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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


def test_value_rows_are_the_named_rows_in_column_order() -> None:
    """as_values is what ingestion sends between its processes: exactly as_row's values, in EVENT_COLUMNS order,
    cleaned the same way."""
    from storage.models import EVENT_COLUMNS

    event = TrackingEvent(
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC), source="test", source_key="v", direction="inbound",
        disposition="rejected", sender="Bad\x00Guy@MX.Partner.Example.", recipient="x\ud800y@Ours.example",
        helo="h" * 400, reply_text="nul\x00 inside", size=2**70, nrcpt=3, smtp_code=550, queue_id="Q" * 40,
    )
    values = event.as_values()
    assert isinstance(values, tuple) and len(values) == len(EVENT_COLUMNS)
    assert dict(zip(EVENT_COLUMNS, values, strict=True)) == event.as_row()
    named = dict(zip(EVENT_COLUMNS, values, strict=True))
    assert named["sender"] == "badguy@mx.partner.example." and named["sender_domain"] == "mx.partner.example"
    assert named["sender_domain_rev"] == "example.partner.mx." and named["recipient_domain"] == "ours.example"
    assert len(named["queue_id"]) == 32 and named["size"] is None and named["nrcpt"] == 3


def test_value_rows_insert_like_named_rows_on_both_databases(store: Store) -> None:
    def event(key: str) -> TrackingEvent:
        return TrackingEvent(time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC), source="test", source_key=key,
                             direction="inbound", disposition="rejected", sender="a@values.example",
                             reply_text="550 5.1.1 no such user")

    with store.engine.begin() as conn:
        assert queries.insert_events(conn, [event("1").as_values(), event("2").as_values()]) == 2
        assert queries.insert_events(conn, [event("2").as_values(), event("3").as_values()]) == 1
        assert queries.insert_events(conn, [event("3").as_row(), event("4").as_row()]) == 1
    with store.session() as s:
        stored = queries.events_for(s, "domain", "values.example")
    assert sorted(e.source_key for e in stored) == ["1", "2", "3", "4"]
    assert {e.reply_text for e in stored} == {"550 5.1.1 no such user"}


def test_a_value_row_of_the_wrong_length_is_refused(store: Store) -> None:
    row = TrackingEvent(time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC), source="test", source_key="short",
                        direction="inbound", disposition="rejected").as_values()
    with pytest.raises(ValueError, match="value row has"), store.engine.begin() as conn:
        queries.insert_events(conn, [row[:-1]])
