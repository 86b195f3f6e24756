"""The diagnosis on hand-built event histories, on real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.diagnosis import diagnose
from bot.events import TrackingEvent
from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.store import Store
from bot.targets import Target, parse_target
from storage import queries
from storage.models import ApprovedSender

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SETTINGS = Settings(outbound_ips=("203.0.113.45",))


def ev(key: str, minutes_ago: float, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        time=NOW - timedelta(minutes=minutes_ago), source="test", source_key=key, direction="inbound",
        disposition="rejected", sender="alice@partner.example", recipient="bob@ours.example",
        client_ip="192.0.2.10", rejected_by="gateway",
    )
    base.update(kw)
    return TrackingEvent(**base).as_row()


def load(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.session() as s:
        queries.insert_events(s, rows)
        s.commit()


def run(store: Store, target: str, **kw: Any):
    with store.session() as s:
        return diagnose(s, parse_target(target), settings=SETTINGS, now=NOW, **kw)


def test_verdict_prefers_the_decisive_recent_cause(store: Store) -> None:
    load(store, [
        ev("d1", 3000, disposition="deferred", direction="outbound", cause="transient", reason="systemerror",
           smtp_code=451, rejected_by="remote"),
        *[ev(f"r{i}", 60 + i, cause="gateway_reputation", reason="blocked", smtp_code=554,
             enhanced_status="5.7.1", dnsbl_zone="zen.spamhaus.org",
             reply_text="Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org")
          for i in range(3)],
        ev("u1", 20000, cause="invalid_recipient", reason="userunknown", smtp_code=550, recipient="x@ours.example"),
    ])
    d = run(store, "alice@partner.example")
    assert d.verdict.cause == "gateway_reputation" and d.verdict.reason == "blocked"
    assert "our gateway refused" in d.verdict.text and "3 times" in d.verdict.text
    top = d.findings[0]
    assert top.count == 3 and top.dnsbl_zone == "zen.spamhaus.org" and top.client_ips == ["192.0.2.10"]
    assert len(top.evidence) == 3 and top.evidence[0].time > top.evidence[-1].time
    assert any("zen.spamhaus.org" in f for f in top.facts)
    assert d.summary["rejected"] == 4 and d.summary["deferred"] == 1
    # a two-week-old unknown recipient weighs less than a two-day-old deferral
    assert [f.cause for f in d.findings] == ["gateway_reputation", "transient", "invalid_recipient"]


def test_nothing_bounced_is_delivered(store: Store) -> None:
    load(store, [ev(f"ok{i}", i * 10, disposition="delivered", cause="delivered", reason="delivered")
                 for i in range(4)])
    d = run(store, "partner.example")
    assert d.verdict.cause == "delivered" and d.findings == []
    assert d.summary["delivered"] == 4 and d.summary["accepted"] == 4
    assert d.to_json()["verdict"]["cause"] == "delivered"


def test_mixed_history_and_nonexistent_recipient(store: Store) -> None:
    load(store, [
        ev("ok", 600, disposition="delivered", cause="delivered", reason="delivered", recipient="ben@ours.example"),
        ev("bad", 60, cause="invalid_recipient", reason="userunknown", smtp_code=550, enhanced_status="5.1.1",
           recipient="marketing@ours.example", reply_text="User unknown in local recipient table"),
        ev("other", 700, sender="z@else.example", disposition="delivered", recipient="old@ours.example"),
        ev("oldbad", 50, sender="alice@partner.example", cause="invalid_recipient", reason="userunknown",
           recipient="old@ours.example"),
    ])
    d = run(store, "alice@partner.example")
    assert d.verdict.cause == "invalid_recipient"
    assert d.history and d.history.startswith("Mixed history")
    assert d.nonexistent_recipients == ["marketing@ours.example"]  # old@ once received mail: it existed


def test_subdomains_and_ip_and_message_id(store: Store) -> None:
    load(store, [
        ev("a", 10, sender="news@mail.partner.example", cause="gateway_policy", reason="rejected",
           message_id="<123.456@mail.partner.example>"),
    ])
    assert run(store, "partner.example").summary["rejected"] == 1
    assert run(store, "192.0.2.10").summary["rejected"] == 1
    assert run(store, "<123.456@mail.partner.example>").summary["rejected"] == 1
    # an address-shaped message-id without brackets is found too
    d = run(store, "123.456@mail.partner.example")
    assert d.target_kind == "message_id" and d.summary["rejected"] == 1


def test_unknown_target_in_empty_store(store: Store) -> None:
    d = run(store, "nobody@nowhere.example")
    assert not d.found and d.verdict.cause == "unknown"
    assert "No mail from nobody@nowhere.example" in d.verdict.text
    assert any("empty" in c for c in d.caveats)
    assert any("why nowhere.example" in s for s in d.suggestions)


def test_suggests_other_senders_of_the_domain(store: Store) -> None:
    load(store, [ev("a", 10, sender="alicia@partner.example", cause="gateway_policy", reason="rejected")])
    d = run(store, "alice@partner.example")
    assert any("alicia@partner.example" in s for s in d.suggestions)


def test_remote_rejection_names_contacts(store: Store) -> None:
    load(store, [ev("o", 30, direction="outbound", disposition="bounced", sender="me@ours.example",
                    recipient="h@outlook.com", client_ip=None, rejected_by="remote", cause="remote_blacklist",
                    reason="blocked", smtp_code=550, enhanced_status="5.7.606",
                    relay="outlook-com.olc.protection.outlook.com[52.101.1.1]:25",
                    reply_text="Access denied, banned sending IP [203.0.113.45]")])
    d = run(store, "me@ours.example")
    assert d.verdict.cause == "remote_blacklist" and "receiving side refused" in d.verdict.text
    assert d.contacts[0].postmaster == "postmaster@outlook.com" and d.contacts[0].provider == "Microsoft"


def test_approved_sender_is_reported(store: Store) -> None:
    with store.session() as s:
        s.add(ApprovedSender(pattern="partner.example", kind="domain", approved_by="U1", created_at=NOW,
                             expires_at=NOW + timedelta(days=3)))
        s.add(ApprovedSender(pattern="alice@partner.example", kind="address", approved_by="U2", created_at=NOW,
                             expires_at=NOW - timedelta(days=1)))
        s.commit()
    d = run(store, "alice@mail.partner.example")
    assert d.approved_sender and d.approval and d.approval["pattern"] == "partner.example"


def test_size_is_stated_against_the_policy_limit(store: Store) -> None:
    load(store, [ev("big", 5, cause="gateway_policy", reason="mesgtoobig", size=72_400_000, smtp_code=552)])
    d = run(store, "alice@partner.example")
    assert "72.4 MB, over the 50 MB limit" in d.verdict.text


class FakeResult:
    def __init__(self, **kw: Any) -> None:
        self.data = kw

    def to_json(self) -> dict[str, Any]:
        return self.data


class RecordingChecker:
    """A stand-in for the DNS checker recording what it was asked (the real one is tested against rbldnsd)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def check(self, targets: list[str]) -> list[FakeResult]:
        self.asked += targets
        return [FakeResult(target=t, zone="zen.spamhaus.org", result="unknown", why="timeout", codes=[])
                for t in targets]

    def zone_named(self, text: str) -> str | None:
        return "zen.spamhaus.org" if "spamhaus" in text else None


def test_live_checks_cover_client_ips_and_say_unknown(store: Store) -> None:
    load(store, [ev("r", 5, client_ip="198.51.100.7", cause="gateway_reputation", reason="blocked",
                    dnsbl_zone="zen.spamhaus.org")])
    checker = RecordingChecker()
    d = run(store, "alice@partner.example", checker=checker)
    assert "198.51.100.7" in checker.asked and "partner.example" in checker.asked
    assert any("Could not be checked" in n for n in d.blacklist_notes)
    assert any("names zen.spamhaus.org; live check now" in n for n in d.blacklist_notes)


def test_large_sender_answer_stays_small(store: Store) -> None:
    rows = [ev(f"n{i}", i % 40000, cause=("gateway_policy", "invalid_recipient", "transient")[i % 3],
               reason=("rejected", "userunknown", "systemerror")[i % 3], recipient=f"r{i % 500}@ours.example")
            for i in range(10_000)]
    load(store, rows)
    d = run(store, "partner.example")
    assert sum(f.count for f in d.findings) == 10_000
    assert all(len(f.evidence) <= 3 and len(f.recipients) <= 20 for f in d.findings)
    blocks = render_blocks(d)
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert len(render_text(d)) < 20_000


@pytest.mark.parametrize("bad", ["", "   ", "hello world", "@@", "not_a_target!"])
def test_bad_targets_raise_usage(bad: str) -> None:
    with pytest.raises(ValueError, match="look up"):
        parse_target(bad)


def test_target_kinds() -> None:
    assert parse_target("Alice@Partner.Example") == Target("address", "alice@partner.example")
    assert parse_target("<x@y.example>") == Target("message_id", "x@y.example")
    assert parse_target("2001:db8::1") == Target("ip", "2001:db8::1")
    assert parse_target("partner.example.") == Target("domain", "partner.example")
    assert parse_target("queue:ABC123").kind == "queue_id"
    assert parse_target("mailto:a@b.example") == Target("address", "a@b.example")


def test_caveat_when_ingestion_is_behind(store: Store) -> None:
    load(store, [ev("old", 600, cause="gateway_policy", reason="rejected")])
    d = run(store, "alice@partner.example")
    assert any("not been ingested (yet)" in c for c in d.caveats)
    load(store, [ev("fresh", 5, cause="gateway_policy", reason="rejected")])
    d = run(store, "alice@partner.example")
    assert any("newest ~2 hours" in c for c in d.caveats)
    assert d.title == "Why did mail from alice@partner.example bounce?"
