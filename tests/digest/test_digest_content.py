"""Digest content on a known data set (tests/digest/dataset.py), on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.digest import rollup
from bot.digest.content import TopItem, compute_digest
from bot.digest.period import Period
from bot.digest.render import MAX_BLOCKS, MAX_SECTION, render_blocks, render_text, summary_text
from bot.render.ids import ACTION_DIGEST_WHY
from bot.store import Store
from storage.models import DigestRollup, DigestRollupDay
from tests.digest.dataset import (
    AVG_BLOCKED,
    D_ACCEPTED,
    D_BLOCKED,
    D_BOUNCED,
    OUR_DOMAIN,
    PREV_BLOCKED,
    D,
    at,
    event,
    insert,
    known_rows,
)

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _pairs(items: list[TopItem]) -> list[tuple[str, int, str, str]]:
    return [(i.value, i.count, i.reason, i.cause) for i in items]


def test_every_section(store: Store) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D), UTC_ZONE, local_domains=(OUR_DOMAIN,), now=NOW)

    assert (digest.blocked.current, digest.blocked.previous) == (D_BLOCKED, PREV_BLOCKED)
    assert digest.blocked.average == (7 * AVG_BLOCKED + 1) / 7      # carol's single block on D-3
    assert (digest.bounced.current, digest.bounced.previous, digest.bounced.average) == (D_BOUNCED, 0, 0)
    assert digest.accepted == D_ACCEPTED
    assert dict(digest.by_cause) == {"gateway_reputation": 40, "gateway_policy": 15, "invalid_recipient": 11,
                                     "remote_blacklist": 4, "recipient_unavailable": 2}
    assert dict(digest.by_reason) == {"blocked": 44, "userunknown": 11, "spamdetected": 10,
                                      "policyviolation": 5, "mailboxfull": 2}
    assert _pairs(digest.top_senders) == [
        ("spammer@bulk.example", 40, "blocked", "gateway_reputation"),
        ("news@lists.example", 11, "userunknown", "invalid_recipient"),
        ("alice@partner.example", 10, "spamdetected", "gateway_policy"),
        ("carol@steady.example", 5, "policyviolation", "gateway_policy"),
    ]
    assert [(i.value, i.count) for i in digest.top_domains] == [
        ("bulk.example", 40), ("lists.example", 11), ("partner.example", 10), ("steady.example", 5)]
    assert [(i.value, i.count, i.reason) for i in digest.top_ips] == [
        ("203.0.113.5", 40, "blocked"), ("198.51.100.40", 11, "userunknown"),
        ("198.51.100.7", 10, "spamdetected"), ("198.51.100.30", 5, "policyviolation")]
    # likely false positives: the partner (sender and domain) accepted 3 a day for 14 days, never blocked before;
    # not carol/steady.example (blocked on D-3 already), not the spammer or the list (never accepted)
    assert [(i.kind, i.value, i.count, i.accepted_before, i.reason) for i in digest.false_positives] == [
        ("address", "alice@partner.example", 10, 42, "spamdetected"),
        ("domain", "partner.example", 10, 42, "spamdetected"),
    ]
    # invalid recipients at our own domain only
    assert [(i.value, i.count, i.reason) for i in digest.invalid_recipients] == [
        ("departed@our.example", 6, "userunknown"), ("jonh@our.example", 2, "userunknown")]
    assert _pairs(digest.outbound_bounces) == [("gmail.example", 4, "blocked", "remote_blacklist"),
                                                ("corp.example", 2, "mailboxfull", "recipient_unavailable")]
    # blocked per hour: the spam run at 03-06 h (10 each), the partner at 10 h, carol at 15 h, 11 at 16 h
    labels = [label for label, _ in digest.chart_buckets]
    assert labels == [f"{h:02d}" for h in range(24)]
    per_hour = {label: counts for label, counts in digest.chart_buckets if counts}
    assert per_hour == {"03": {"gateway_reputation": 10}, "04": {"gateway_reputation": 10},
                        "05": {"gateway_reputation": 10}, "06": {"gateway_reputation": 10},
                        "10": {"gateway_policy": 10}, "15": {"gateway_policy": 5}, "16": {"invalid_recipient": 11}}
    assert len(digest.trend) == 14
    assert digest.trend[-1] == (D, D_BLOCKED, D_BOUNCED)
    assert digest.trend[-2] == (D - timedelta(days=1), PREV_BLOCKED, 0)
    assert digest.trend[0] == (D - timedelta(days=13), 0, 0)
    assert not digest.quiet
    json.dumps(digest.to_json())  # serialisable as is


def test_without_local_domains_every_invalid_recipient_counts(store: Store) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D), UTC_ZONE, now=NOW)
    assert [(i.value, i.count) for i in digest.invalid_recipients] == [
        ("departed@our.example", 6), ("someone@elsewhere.example", 3), ("jonh@our.example", 2)]


#: every section of a day with blocked or bounced mail, in the order shown
SECTIONS = ("Blocked and bounced by cause:", "By reason:", "Top blocked senders (main reason):",
            "Top blocked sender domains (main reason):", "Top blocked client IPs (main reason):",
            "Invalid recipients at our addresses:", "Outbound bounces by remote domain:",
            "Our outbound IPs on block lists:")


def _in_order(text: str, parts: tuple[str, ...]) -> None:
    at_ = [text.find(p) for p in parts]
    assert -1 not in at_, [p for p, i in zip(parts, at_, strict=True) if i < 0]
    assert at_ == sorted(at_), parts


def test_a_day_with_blocked_traffic_and_no_anomaly_lists_it_all(store: Store) -> None:
    """D-2: the ordinary 10 spam blocks, nothing unusual. Still every section, with why's labels."""
    insert(store, known_rows())
    insert(store, [event(at(D - timedelta(days=2), 12), "bounced", f"user1@{OUR_DOMAIN}", direction="outbound",
                         recipient="gone@remote.example", ip=None, reason="userunknown", cause="invalid_recipient"),
                   event(at(D - timedelta(days=2), 13), "rejected", "news@lists.example",
                         recipient=f"nobody@{OUR_DOMAIN}", ip="198.51.100.40", reason="userunknown",
                         cause="invalid_recipient")])
    digest = compute_digest(store, Period(D - timedelta(days=2)), UTC_ZONE, local_domains=(OUR_DOMAIN,), now=NOW)
    assert digest.blocked.current == 11 and not digest.false_positives
    assert digest.quiet and not digest.empty
    text = render_text(digest)
    _in_order(text, ("11 blocked (", "1 bounced (", "4 accepted", "Nothing unusual: ", *SECTIONS))
    # the human labels `why` uses, never the raw cause names
    assert "10  Our reputation service" in text and " 2  Invalid recipient" in text
    assert "gateway_reputation" not in text and "invalid_recipient" not in text
    assert "blocked: the sending IP or host was refused" in text
    # each top sender/domain/IP with its main reason; ties are in key order
    assert "spam0@spam.example — 1, Our reputation service (blocked)" in text
    assert "spam.example — 10, Our reputation service (blocked)" in text
    assert "192.0.2.0 — 1, Our reputation service (blocked)" in text
    assert "nobody@our.example — 1, Invalid recipient (userunknown)" in text
    assert "remote.example — 1, Invalid recipient (userunknown)" in text
    blocks = render_blocks(digest)
    values = [json.loads(b["accessory"]["value"]) for b in blocks if b.get("accessory")]
    assert {"kind": "domain", "value": "spam.example"} in values
    assert "Nothing unusual" in summary_text(digest)


def test_an_empty_day_gives_the_short_message(store: Store) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D + timedelta(days=1)), UTC_ZONE, now=NOW)
    assert digest.empty and digest.quiet
    text = render_text(digest)
    assert "No blocked or bounced mail on Mon 30 Nov 2026." in text
    assert "0 blocked (▼ 100% vs 66 the day before;" in text
    for title in SECTIONS[:-1]:
        assert title not in text
    blocks = render_blocks(digest)
    assert len(blocks) <= 6 and not [b for b in blocks if b.get("accessory")]
    assert summary_text(digest).endswith(": no blocked or bounced mail")


def test_with_no_earlier_traffic_the_totals_say_so(store: Store) -> None:
    insert(store, [row for row in known_rows() if row["time"] >= at(D, 0)])
    digest = compute_digest(store, Period(D), UTC_ZONE, now=NOW)
    assert not digest.blocked.comparable
    text = render_text(digest)
    assert "66 blocked; no earlier days to compare" in text
    assert "6 bounced; no earlier days to compare" in text


def test_empty_store_is_empty(store: Store) -> None:
    digest = compute_digest(store, Period(D), UTC_ZONE, now=NOW)
    assert digest.empty and digest.blocked.current == 0 and digest.trend[-1] == (D, 0, 0)
    assert "No blocked or bounced mail" in render_text(digest)


def test_blocks_carry_why_buttons_and_fit_slack_limits(store: Store) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D), UTC_ZONE, local_domains=(OUR_DOMAIN,), now=NOW)
    blocks = render_blocks(digest)
    assert len(blocks) <= MAX_BLOCKS
    buttons = [b["accessory"] for b in blocks if b.get("accessory")]
    assert {b["action_id"] for b in buttons} == {ACTION_DIGEST_WHY}
    values = [json.loads(b["value"]) for b in buttons]
    for item in digest.top_senders + digest.top_domains + digest.top_ips:
        assert {"kind": item.kind, "value": item.value} in values
    assert {"kind": "address", "value": "alice@partner.example"} in values
    text = render_text(digest)
    _in_order(text, ("66 blocked (▲ 560% vs 10 the day before; ▲ 551% vs the 7-day average of 10.1)", "6 bounced",
                     "Unusual volume: 66 blocked, against an average of 10.",
                     "Likely false positives: 1 sender and 1 domain newly blocked",
                     *SECTIONS[:2], "Newly blocked, accepted before (likely false positives):",
                     "alice@partner.example — 10, Our gateway's policy (spamdetected); 42 accepted before",
                     *SECTIONS[2:-2], "departed@our.example — 6, Invalid recipient (userunknown)",
                     SECTIONS[-2], "gmail.example — 4, On a blacklist the receiving side uses (blocked)",
                     SECTIONS[-1]))
    assert "Nothing unusual" not in text


def test_many_items_are_cut_to_fifty_blocks(store: Store) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D), UTC_ZONE, now=NOW)
    long = "x" * 400
    many = [TopItem("address", f"{long}{n}@spam.example", 100 - n, "blocked", "gateway_reputation")
            for n in range(60)]
    digest.top_senders, digest.top_domains, digest.top_ips = many[:], many[:], many[:]
    digest.false_positives = many[:]
    digest.invalid_recipients = many[:]
    blocks = render_blocks(digest)
    assert len(blocks) == MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        if "accessory" in block:
            assert len(block["accessory"]["value"]) <= 2000


def test_rollup_is_incremental_and_counts_late_events_once(store: Store) -> None:
    insert(store, known_rows())
    days = [D - timedelta(days=i) for i in range(15)]
    first = rollup.refresh(store.engine, UTC_ZONE, days, now=NOW)
    assert len(first.built) == 15 and not first.added
    again = rollup.refresh(store.engine, UTC_ZONE, days, now=NOW)
    assert again.built == [] and again.added == {} and again.clean == 15
    # late events for D and D-5 arrive: only those two days take them in, by addition
    insert(store, [event(at(D, 20), "rejected", "late@bulk.example"),
                   event(at(D - timedelta(days=5), 20), "rejected", "late@bulk.example"),
                   event(at(D - timedelta(days=5), 21), "rejected", "late2@bulk.example")])
    third = rollup.refresh(store.engine, UTC_ZONE, days, now=NOW)
    assert third.built == [] and third.added == {D.isoformat(): 1, (D - timedelta(days=5)).isoformat(): 2}
    assert third.clean == 13
    digest = compute_digest(store, Period(D), UTC_ZONE, now=NOW)
    assert digest.blocked.current == D_BLOCKED + 1
    assert digest.trend[-6][1] == 10 + 2
    with store.session() as session:
        states = session.execute(select(DigestRollupDay.day, DigestRollupDay.events)
                                 .where(DigestRollupDay.day == D.isoformat())).all()
        total = session.scalar(select(func.sum(DigestRollup.count))
                               .where(DigestRollup.kind == "total", DigestRollup.day == D.isoformat()))
    on_d = [r for r in known_rows() if at(D, 0) <= r["time"] < at(D, 0) + timedelta(days=1)]
    assert states[0][1] == total == len(on_d) + 1


def test_weekly_period_sums_seven_days(store: Store) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D, 7), UTC_ZONE, now=NOW)
    assert digest.blocked.current == D_BLOCKED + 6 * 10 + 1
    assert digest.blocked.previous == 10                    # D-13..D-7: only D-7 had spam
    assert digest.blocked.baseline_periods == 4
    assert len(digest.chart_buckets) == 7
    assert digest.chart_buckets[-1][1] == {"gateway_reputation": 40, "gateway_policy": 15, "invalid_recipient": 11}


def test_old_rollup_days_are_purged(store: Store) -> None:
    insert(store, known_rows())
    days = [D - timedelta(days=i) for i in range(15)]
    rollup.refresh(store.engine, UTC_ZONE, days, now=NOW)
    with store.session() as session:
        before = session.scalar(select(func.count()).select_from(DigestRollup))
        kept = session.scalar(select(func.count()).select_from(DigestRollup)
                              .where(DigestRollup.day >= (D - timedelta(days=2)).isoformat()))
    removed = rollup.purge_before(store.engine, D - timedelta(days=2))
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(DigestRollup)) == kept == before - removed
        assert session.scalar(select(func.min(DigestRollupDay.day))) == (D - timedelta(days=2)).isoformat()
    assert removed > 0
