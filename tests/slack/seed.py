"""A small tracking store for the Slack tests: a sender blocked by a DNSBL, one with many kinds of failure."""

from __future__ import annotations

from datetime import timedelta

from bot.events import TrackingEvent
from bot.store import Store
from bot.timeutil import utcnow
from bot.vocab import REASONS
from storage import queries

BLOCKED = "alice@partner.example"
BLOCKED_IP = "192.0.2.10"
HEAVY_DOMAIN = "heavy.example"


def _event(n: int, **fields: object) -> TrackingEvent:
    base: dict[str, object] = {"source": "test", "source_key": f"slack-test-{n}", "direction": "inbound",
                               "recipient": f"user{n % 7}@ourcorp.example"}
    base.update(fields)
    return TrackingEvent(**base)  # type: ignore[arg-type]


def seed(store: Store) -> list[TrackingEvent]:
    now = utcnow()
    rows = []
    n = 0
    for days in (20, 15):
        n += 1
        rows.append(_event(n, time=now - timedelta(days=days), disposition="delivered", sender=BLOCKED,
                           client_ip=BLOCKED_IP, reason="delivered", cause="delivered"))
    for hours in (30, 26, 25, 5):
        n += 1
        rows.append(_event(n, time=now - timedelta(hours=hours), disposition="rejected", sender=BLOCKED,
                           client_ip=BLOCKED_IP, smtp_code=554, enhanced_status="5.7.1", stage="RCPT",
                           rejected_by="gateway", reason="blocked", cause="gateway_reputation",
                           dnsbl_zone="zen.spamhaus.org",
                           reply_text=f"Service unavailable; Client host [{BLOCKED_IP}] blocked using "
                                      "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.10"))
    # Many senders, reasons and long reply texts: the rendering must still stay within Slack's limits.
    for i, reason in enumerate(REASONS * 3):
        n += 1
        rows.append(_event(n, time=now - timedelta(hours=3 + i), disposition="bounced", direction="outbound",
                           sender=f"s{i}@{HEAVY_DOMAIN}", recipient=f"r{i}@far{i}.example", client_ip="198.51.100.7",
                           smtp_code=550, enhanced_status="5.0.0", rejected_by="remote", reason=reason,
                           cause="remote_policy", reply_text=("very long remote reply <x@y> & more " * 40)))
    with store.session() as session:
        queries.insert_events(session, [e.as_row() for e in rows])
        session.commit()
    return rows


def yesterday_failures(rows: list[TrackingEvent]) -> int:
    """Failed events (rejected, bounced, expired) of the seed on yesterday's UTC date."""
    day = (utcnow() - timedelta(days=1)).date()
    return sum(1 for e in rows if e.time.date() == day and e.disposition in ("rejected", "bounced", "expired"))
