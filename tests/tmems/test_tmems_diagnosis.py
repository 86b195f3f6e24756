"""The diagnosis on events that came from TMEMS (fake API -> poll -> store -> diagnose), both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.diagnosis import diagnose
from bot.ingest.tmems import poll_once
from bot.targets import parse_target
from tests.tmems.records import accepted, blocked, policy_event


def _diagnose(store, settings, target: str, now: datetime):
    with store.session() as session:
        return diagnose(session, parse_target(target), settings=settings, now=now)


def test_reputation_blocks_by_our_gateway(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    fake.add("blocked_traffic", [
        blocked(now - timedelta(minutes=10 + i), reason="Sender IP found in KSSL", sender="news@bulk.example",
                recipient=f"u{i}@ourcorp.example", sender_ip="203.0.113.77",
                details="550 5.7.1 Mail from 203.0.113.77 blocked using Trend Micro Email Reputation database")
        for i in range(3)])
    fake.add("accepted_traffic", [accepted(now - timedelta(days=2), action="Delivered", sender="news@bulk.example",
                                           recipient="u0@ourcorp.example", sender_ip="203.0.113.77")])
    summary = poll_once(store, tmems_settings, now=now)  # first run: the 72 hours the API still has
    assert summary.ok and summary.new == 4
    d = _diagnose(store, tmems_settings, "news@bulk.example", now)
    assert (d.verdict.cause, d.verdict.reason) == ("gateway_reputation", "blocked")
    top = d.findings[0]
    assert top.count == 3 and top.client_ips == ["203.0.113.77"]
    assert {e.source for e in top.evidence} == {"tmems"}


def test_outbound_bounces_for_an_unknown_recipient(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    reply = ("host mx.partner.example[198.51.100.20] said: 550 5.1.1 <gone@partner.example>: Recipient address "
             "rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)")
    fake.add("accepted_traffic", [
        accepted(now - timedelta(minutes=30 + i), action="Bounced", sender="erin@ourcorp.example",
                 recipient="gone@partner.example", direction="out", details=reply) for i in range(2)])
    assert poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=2)).new == 2
    d = _diagnose(store, tmems_settings, "erin@ourcorp.example", now)
    assert (d.verdict.cause, d.verdict.reason) == ("invalid_recipient", "userunknown")
    assert d.findings[0].direction == "outbound" and d.findings[0].recipients == ["gone@partner.example"]


def test_content_policy_quarantine(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    fake.add("policy", [policy_event(now - timedelta(minutes=5), event_type="Malware",
                                     policy_name="Inbound Virus Policy", policy_action="Quarantine",
                                     sender="invoice@shady.example", recipients=["ap@ourcorp.example"])])
    fake.add("accepted_traffic", [accepted(now - timedelta(minutes=5), action="Quarantined",
                                           sender="invoice@shady.example", recipient="ap@ourcorp.example")])
    assert poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=1)).new == 2
    d = _diagnose(store, tmems_settings, "invoice@shady.example", now)
    assert d.verdict.cause == "gateway_policy"
    assert "virusdetected" in {f.reason for f in d.findings}


def test_mail_held_in_the_sandbox_is_held_not_refused(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    fake.add("accepted_traffic", [
        accepted(now - timedelta(minutes=20 + i), action=action, sender="scans@vendor.example",
                 recipient=f"it{i}@ourcorp.example") for i, action in enumerate(("Scanning in sandbox",
                                                                                   "Submitted to sandbox",
                                                                                   "Password analyzing"))])
    assert poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=1)).new == 3
    d = _diagnose(store, tmems_settings, "scans@vendor.example", now)
    assert d.findings == [] and d.verdict.cause == "delivered"  # nothing refused, nothing bounced
    [note] = [c for c in d.caveats if "held" in c]
    assert note.startswith("3 records") and "held, not refused" in note


def test_an_attachment_removed_by_a_policy_leaves_the_message_delivered(fake, store, tmems_settings) -> None:
    now = datetime.now(UTC)
    fake.add("policy", [policy_event(now - timedelta(minutes=5), event_type="Malware",
                                     subtype="Pattern-based scanning", policy_name="Inbound Virus Policy",
                                     policy_action="Clean cleanable malware, delete those that cannot be cleaned",
                                     sender="cv@jobs.example", recipients=["hr@ourcorp.example"])])
    fake.add("accepted_traffic", [accepted(now - timedelta(minutes=5), action="Delivered", sender="cv@jobs.example",
                                           recipient="hr@ourcorp.example")])
    assert poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=1)).new == 2
    d = _diagnose(store, tmems_settings, "cv@jobs.example", now)
    assert d.findings == [] and d.summary["delivered"] == 2
