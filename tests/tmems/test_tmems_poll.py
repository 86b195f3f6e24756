"""poll_once end to end: fake API -> mapping -> the tracking store (SQLite and PostgreSQL) -> queries."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.config import Settings
from bot.ingest.tmems import API_RETENTION, load_cursor, poll_once, save_cursor
from bot.ingest.tmems_client import TmemsClient
from bot.ingest.tmems_store import FLUSH_ROWS
from bot.store import Store
from storage import queries
from storage.models import Event
from tests.support import store_refusing_sender
from tests.tmems.fake_tmems import FakeTmems
from tests.tmems.records import ANY, accepted, blocked, samples


def _fast_client(fake: FakeTmems, sleeps, attempts: int = 2) -> TmemsClient:
    return TmemsClient(fake.url, fake.user, fake.api_key, backoff=0.01, max_attempts=attempts, sleep=sleeps)


def _count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def _spread(fake: FakeTmems, now: datetime, hours: int, per_hour: int) -> int:
    """Delivered records every few minutes over the last `hours` hours."""
    records = []
    for h in range(hours):
        for i in range(per_hour):
            when = now - timedelta(hours=h, minutes=1 + i * (58 // per_hour))
            records.append(accepted(when, action="Delivered", sender=f"s{h}-{i}@x.example",
                                    recipient="r@ourcorp.example"))
    fake.add("accepted_traffic", records)
    return len(records)


#: Every poll test below runs with rows stored in place and with a writer process (tiny batches, so it starts).
WRITERS = pytest.mark.parametrize("flush_rows", [FLUSH_ROWS, 7], ids=["in-place", "writer-process"])


def test_every_sample_is_stored_and_found_by_events_for(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    expected = samples(now)
    for e in expected:
        fake.add(e.kind, [e.record])
    summary = poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=2))
    assert summary.ok, summary.errors
    assert (summary.records, summary.new, summary.skipped) == (len(expected), len(expected), 0)
    with store.session() as session:
        for e in expected:
            recipient = e.record.get("recipient") or e.record["recipients"][0]
            found = queries.events_for(session, "recipient", recipient, since=now - timedelta(days=1))
            assert len(found) == 1, recipient
            event = found[0]
            assert (event.source, event.disposition, event.direction) == ("tmems", e.disposition, e.direction)
            if e.reason is not ANY:
                assert event.reason == e.reason, recipient
            if e.cause is not ANY:
                assert event.cause == e.cause, recipient
        by_sender = queries.events_for(session, "domain", "partner.example", since=now - timedelta(days=1))
        assert by_sender and all(ev.sender_domain == "partner.example" for ev in by_sender)


def test_overlap_and_re_polls_add_nothing(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC) - timedelta(minutes=30)
    total = _spread(fake, now, hours=3, per_hour=6)
    first = poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=4))
    assert (first.records, first.new) == (total, total)
    # Later polls re-read the overlap (and a --since reaching back re-reads everything): nothing new.
    again = poll_once(store, tmems_settings, now=now + timedelta(minutes=5))
    assert again.new == 0 and again.ok
    assert any(s.params["start"] < (now - timedelta(minutes=5)).isoformat() for s in fake.data_requests()[-3:])
    back = poll_once(store, tmems_settings, now=now + timedelta(minutes=10), since=now - timedelta(hours=4))
    assert back.records == total and back.new == 0
    assert _count(store) == total


@WRITERS
def test_a_failed_window_is_fetched_again_on_the_next_run(fake, store, tmems_settings, sleeps, flush_rows) -> None:
    now = datetime.now(UTC)
    total = _spread(fake, now, hours=4, per_hour=3)
    # The third accepted_traffic window fails (every attempt); the others succeed.
    fake.fail(500, times=2, type="accepted_traffic", skip=2)
    with _fast_client(fake, sleeps) as client:
        failed = poll_once(store, tmems_settings, flush_rows=flush_rows, now=now, since=now - timedelta(hours=4),
                           client=client)
    assert not failed.ok and "accepted_traffic" in failed.errors[0] and "fetched again" in failed.errors[0]
    assert 0 < failed.new < total
    with store.session() as session:
        end, _ = load_cursor(session, "accepted_traffic")
    assert end == now - timedelta(hours=2)  # two windows stored, the cursor stopped before the failed one
    with _fast_client(fake, sleeps) as client:
        retried = poll_once(store, tmems_settings, flush_rows=flush_rows, now=now + timedelta(minutes=1), client=client)
    assert retried.ok
    assert failed.new + retried.new == total == _count(store)


@WRITERS
def test_a_failure_in_the_middle_of_a_window_loses_nothing(fake, store, tmems_settings, sleeps, flush_rows) -> None:
    now = datetime.now(UTC)
    fake.add("accepted_traffic", [accepted(now - timedelta(minutes=20, seconds=i), action="Delivered",
                                           sender=f"s{i}@x.example", recipient="r@ourcorp.example")
                                  for i in range(1200)])
    fake.fail(503, times=2, type="accepted_traffic", skip=1)  # page 2 of 3 fails
    with _fast_client(fake, sleeps) as client:
        failed = poll_once(store, tmems_settings, flush_rows=flush_rows, now=now, since=now - timedelta(hours=1),
                           client=client)
    assert failed.new == 500 and failed.errors
    with _fast_client(fake, sleeps) as client:
        retried = poll_once(store, tmems_settings, flush_rows=flush_rows, now=now + timedelta(minutes=1), client=client)
    assert retried.ok and retried.new == 700 and _count(store) == 1200


def test_429_then_success_inside_a_poll(fake, store, tmems_settings, sleeps) -> None:
    now = datetime.now(UTC)
    fake.add("blocked_traffic", [blocked(now - timedelta(minutes=3), reason="Sender IP found in QIL",
                                         sender="a@x.example", recipient="b@ourcorp.example")])
    fake.fail(429, type="blocked_traffic", retry_after="0")
    with _fast_client(fake, sleeps) as client:
        summary = poll_once(store, tmems_settings, now=now, since=now - timedelta(minutes=30), client=client)
    assert summary.ok and summary.new == 1
    assert sleeps.asked == [0.0]


@pytest.mark.parametrize(("setup", "status", "says"), [
    ("key", 401, "BOUNCEBOT_TMEMS_API_KEY"),
    ("retrieval", 404, "Log Retrieval"),
])
def test_setup_errors_stop_the_poll_with_what_to_enable(fake, store, tmems_settings, setup, status, says) -> None:
    if setup == "key":
        settings = Settings(database_url=tmems_settings.database_url, tmems_url=fake.url, tmems_user=fake.user,
                            tmems_api_key="not-the-key")
    else:
        fake.log_retrieval = False
        settings = tmems_settings
    summary = poll_once(store, settings)
    assert summary.stopped and not summary.ok
    assert len(summary.errors) == 1 and says in summary.errors[0] and f"HTTP {status}" in summary.errors[0]
    assert len(fake.seen) == 1  # stopped: the other streams were not even tried
    with store.session() as session:
        assert load_cursor(session, "accepted_traffic") == (None, {})


def test_a_gap_over_72_hours_is_reported_as_lost_data(fake, store, tmems_settings, caplog) -> None:
    now = datetime.now(UTC)
    _spread(fake, now, hours=2, per_hour=2)
    with store.session() as session:  # the last successful poll was 80 hours ago (the bot was down)
        save_cursor(session, "accepted_traffic", now - timedelta(hours=80))
        session.commit()
    caplog.set_level(logging.ERROR, logger="bot.ingest.tmems")
    summary = poll_once(store, tmems_settings, now=now, streams=_streams("accepted_traffic"))
    [gap] = summary.gaps
    assert gap.stream == "accepted_traffic" and gap.start == now - timedelta(hours=80)
    assert 7 < gap.hours < 8.1 and not summary.ok
    assert summary.new == 4  # what the API still has is fetched
    assert any("LOST DATA" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    with store.session() as session:
        _, state = load_cursor(session, "accepted_traffic")
    assert state["lost"] == [{"start": gap.start.isoformat(), "end": gap.end.isoformat()}]
    assert poll_once(store, tmems_settings, now=now + timedelta(minutes=5)).gaps == []  # reported once


def test_since_beyond_72_hours_is_clamped_with_a_warning(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    summary = poll_once(store, tmems_settings, now=now, since=now - timedelta(days=5),
                        streams=_streams("blocked_traffic"))
    assert summary.ok and summary.warnings and "72 hours" in summary.warnings[0]
    starts = [s.params["start"] for s in fake.seen]
    assert min(starts) >= (now - API_RETENTION).isoformat()[:19]


def test_malformed_records_are_counted_and_skipped(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    good = accepted(now - timedelta(minutes=2), action="Delivered", sender="a@x.example", recipient="b@ourcorp.example")
    bad = {"genTime": good["genTime"], "action": "Delivered"}  # names no mail, no recipient
    fake.add("accepted_traffic", [good, bad])
    summary = poll_once(store, tmems_settings, now=now, since=now - timedelta(minutes=10))
    assert (summary.records, summary.new, summary.skipped) == (2, 1, 1)


def test_secrets_never_reach_the_logs(fake, store, tmems_settings, caplog, sleeps) -> None:
    caplog.set_level(logging.DEBUG)
    now = datetime.now(UTC)
    for e in samples(now):
        fake.add(e.kind, [e.record])
    fake.fail(500, times=1)
    fake.fail(429, times=1, retry_after="0")
    with TmemsClient.from_settings(tmems_settings, backoff=0.01, sleep=sleeps) as client:
        summary = poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=1), client=client)
    bad = Settings(database_url=tmems_settings.database_url, tmems_url=fake.url, tmems_user=fake.user,
                   tmems_api_key="wrong-" + fake.api_key)
    refused = poll_once(store, bad)
    text = "\n".join(r.getMessage() for r in caplog.records)
    text += "\n".join([*summary.errors, *refused.errors, repr(summary), repr(refused), repr(tmems_settings)])
    assert "TMEMS" in text and "retrying" in text  # something was logged at all
    for secret in (fake.api_key, fake.user, "wrong-" + fake.api_key):
        assert secret not in text
    import base64

    assert base64.b64encode(f"{fake.user}:{fake.api_key}".encode()).decode() not in text


def _streams(*names: str):
    from bot.ingest.tmems import STREAMS

    return tuple(s for s in STREAMS if s.name in names)


def test_unstorable_text_and_impossible_times_do_not_block_a_window(fake, store, tmems_settings) -> None:
    """NUL and lone surrogates (valid JSON escapes no database stores) are cleaned; a year-9999 time is
    malformed. Either, stored as is, would fail its window on every run."""
    now = datetime.now(UTC)
    dirty = accepted(now - timedelta(minutes=3), action="Bounced", sender="a\x00b@x.example",
                     recipient="r@ourcorp.example", details="550 5.1.1 user \ud800unknown")
    future = accepted(now - timedelta(minutes=3), action="Delivered", sender="c@x.example",
                      recipient="s@ourcorp.example")
    future.update(genTime="9999-12-31T23:59:59Z", timestamp="9999-12-31T23:59:59Z",
                  deliveryTime="9999-12-31T23:59:59Z")
    fake.add("accepted_traffic", [dirty])
    fake.add("blocked_traffic", [blocked(now - timedelta(minutes=2), reason="Sender IP found in QIL",
                                         sender="d@x.example", recipient="t@ourcorp.example")])
    fake._logs["accepted_traffic"].times.append(now - timedelta(minutes=1))  # served in the window anyway
    fake._logs["accepted_traffic"].bodies.append(json.dumps(future))
    fake._logs["accepted_traffic"].records.append(future)
    summary = poll_once(store, tmems_settings, now=now, since=now - timedelta(minutes=30))
    assert summary.ok and (summary.records, summary.new, summary.skipped) == (3, 2, 1)
    with store.session() as session:
        [event] = queries.events_for(session, "recipient", "r@ourcorp.example", since=now - timedelta(hours=1))
    assert event.sender == "ab@x.example" and "\ud800" not in (event.reply_text or "")


def test_a_store_failure_is_an_error_in_the_summary_and_the_window_is_kept(fake, sqlite_url) -> None:
    store = store_refusing_sender(sqlite_url)  # a real failure of the database, not a mock
    settings = Settings(database_url=sqlite_url, tmems_url=fake.url, tmems_user=fake.user,
                        tmems_api_key=fake.api_key)
    now = datetime.now(UTC)
    fake.add("accepted_traffic", [accepted(now - timedelta(minutes=5), action="Delivered", sender=s,
                                           recipient="r@ourcorp.example") for s in ("ok@x.example", "boom@x.example")])
    try:
        failed = poll_once(store, settings, now=now, since=now - timedelta(minutes=30),
                           streams=_streams("accepted_traffic"))
        assert not failed.ok and "refused a write" in failed.errors[0] and "test trigger" in failed.errors[0]
        with store.session() as session:
            assert load_cursor(session, "accepted_traffic") == (None, {})
        with store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER boom"))
        retried = poll_once(store, settings, now=now + timedelta(minutes=1), streams=_streams("accepted_traffic"))
        assert retried.ok and _count(store) == 2
    finally:
        store.dispose()


@WRITERS
def test_a_store_failure_in_an_early_window_stops_every_later_window(fake, sqlite_url, flush_rows) -> None:
    """A failed write of the first window keeps the cursor where it was and stores nothing of the later windows."""
    store = store_refusing_sender(sqlite_url)
    settings = Settings(database_url=sqlite_url, tmems_url=fake.url, tmems_user=fake.user,
                        tmems_api_key=fake.api_key)
    now = datetime.now(UTC)
    total = _spread(fake, now, hours=4, per_hour=3)
    fake.add("accepted_traffic", [accepted(now - timedelta(hours=3, minutes=30), action="Delivered",
                                           sender="boom@x.example", recipient="r@ourcorp.example")])
    try:
        failed = poll_once(store, settings, flush_rows=flush_rows, now=now, since=now - timedelta(hours=4),
                           streams=_streams("accepted_traffic"))
        assert not failed.ok and "refused a write" in failed.errors[0]
        assert failed.windows == 0 and failed.new == 0 and "accepted_traffic" not in failed.cursors
        with store.session() as session:
            assert load_cursor(session, "accepted_traffic") == (None, {})
        assert _count(store) == 0
        with store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER boom"))
        retried = poll_once(store, settings, flush_rows=flush_rows, now=now + timedelta(minutes=1),
                            since=now - timedelta(hours=4), streams=_streams("accepted_traffic"))
        assert retried.ok and retried.windows == 5 and _count(store) == total + 1
        assert retried.cursors["accepted_traffic"] == now + timedelta(minutes=1)
    finally:
        store.dispose()


@WRITERS
def test_every_window_is_counted_once_its_cursor_is_committed(fake, store, tmems_settings, flush_rows) -> None:
    now = datetime.now(UTC)
    total = _spread(fake, now, hours=5, per_hour=4)
    summary = poll_once(store, tmems_settings, flush_rows=flush_rows, now=now, since=now - timedelta(hours=5),
                        streams=_streams("accepted_traffic"))
    assert summary.ok and summary.windows == 5 and summary.new == total == _count(store)
    assert summary.cursors == {"accepted_traffic": now}
    with store.session() as session:
        end, state = load_cursor(session, "accepted_traffic")
    assert end == now and state["records"] == total
