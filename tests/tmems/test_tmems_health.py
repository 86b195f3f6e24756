"""`bouncebot serve` keeps polling a failing TMEMS with back-off, and says how the source is doing in App Home and
in the digest. A real closed port, then the fake started on that very port: the source recovers by itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import answers
from bot.config import Settings
from bot.digest.content import compute_digest
from bot.digest.period import Period
from bot.digest.render import render_blocks, render_text
from bot.ingest.tmems_health import backoff, load, scheduled_poll, source_health_lines
from bot.jobs import poll_tmems
from tests.support import free_port
from tests.tmems.fake_tmems import FakeTmems
from tests.tmems.records import blocked


def _settings(db_url: str, port: int, **more) -> Settings:
    return Settings(database_url=db_url, tmems_url=f"http://127.0.0.1:{port}", tmems_user="admin@ourcorp.example",
                    tmems_api_key="tmems-test-key-0123456789", local_domains=("ourcorp.example",), **more)


def test_backoff_doubles_from_the_second_failure_up_to_an_hour() -> None:
    assert [backoff(n, 5).total_seconds() / 60 for n in range(8)] == [5, 5, 10, 20, 40, 60, 60, 60]


def test_a_failing_source_is_retried_with_backoff_and_recovers_by_itself(store, db_url) -> None:
    port = free_port()
    settings = _settings(db_url, port)
    t0 = datetime.now(UTC)
    with store.session() as session:
        assert source_health_lines(session, t0) == []  # never polled: nothing to show
    first = scheduled_poll(store, settings, now=t0)
    assert first is not None and first.unreachable
    with store.session() as session:
        health = load(session)
    assert health is not None and health.failures == 1 and health.next_try == t0 + timedelta(minutes=5)
    assert scheduled_poll(store, settings, now=t0 + timedelta(minutes=2)) is None  # backing off: not even tried
    second = scheduled_poll(store, settings, now=t0 + timedelta(minutes=5))
    assert second is not None and second.unreachable
    with store.session() as session:
        health = load(session)
        [line] = source_health_lines(session, t0 + timedelta(minutes=6))
    assert health.failures == 2 and health.next_try == t0 + timedelta(minutes=15)
    assert health.failing_since == t0
    assert "FAILING since" in line and "2 polls in a row" in line and "unreachable" in line
    assert "no poll has worked yet" in line and "next try" in line
    assert scheduled_poll(store, settings, now=t0 + timedelta(minutes=14)) is None
    with FakeTmems(settings.tmems_user, settings.tmems_api_key) as fake:
        fake.stop()
        fake.start(port)  # the service comes back where it was
        fake.add("blocked_traffic", [blocked(t0, reason="Sender IP found in DUL", sender="a@x.example",
                                             recipient="b@ourcorp.example")])
        third = scheduled_poll(store, settings, now=t0 + timedelta(minutes=15))
    assert third is not None and third.ok and third.new == 1
    with store.session() as session:
        health = load(session)
        [line] = source_health_lines(session, t0 + timedelta(minutes=16))
    assert health.failures == 0 and health.error is None and health.last_ok == t0 + timedelta(minutes=15)
    assert line.startswith("Trend Micro Email Security: OK, last poll") and "1 min ago" in line
    with store.session() as session:  # three intervals without a poll: said so
        [stale] = source_health_lines(session, t0 + timedelta(hours=2))
    assert "not polled since" in stale


def test_the_bots_job_polls_through_the_backoff(store, db_url) -> None:
    settings = _settings(db_url, free_port())
    poll_tmems(store, settings)
    with store.session() as session:
        health = load(session)
    assert health is not None and health.failures == 1


def test_app_home_and_the_digest_show_the_sources_health(store, db_url) -> None:
    settings = _settings(db_url, free_port())
    now = datetime.now(UTC)
    scheduled_poll(store, settings, now=now)
    with store.session() as session:
        view = answers.home_view(session, can_remove=False, now=now)
    texts = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert any("Trend Micro Email Security: FAILING" in t and "BOUNCEBOT_TMEMS_URL" in t for t in texts)
    digest = compute_digest(store, Period(now.date() - timedelta(days=1)), ZoneInfo("UTC"), now=now)
    assert digest.sources and "FAILING" in digest.sources[0]
    assert "Log sources:" in render_text(digest) and "Trend Micro Email Security: FAILING" in render_text(digest)
    assert any("Log sources" in (b.get("text") or {}).get("text", "") for b in render_blocks(digest))


def test_a_digest_without_tmems_says_nothing_about_it(store) -> None:
    digest = compute_digest(store, Period(date(2026, 11, 29)), ZoneInfo("UTC"),
                            now=datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    assert digest.sources == [] and "Log sources" not in render_text(digest)
