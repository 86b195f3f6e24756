"""A known data set for the digest tests: two weeks of ordinary traffic, then one eventful day.

Day D = 2026-11-29 (local). Every expected number in the tests follows from the loops below.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.events import TrackingEvent
from bot.store import Store
from storage.queries import insert_events

D = date(2026, 11, 29)
OUR_DOMAIN = "our.example"
_keys = itertools.count(1)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo | None = None) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone or UTC).astimezone(UTC)


def event(when: datetime, disposition: str, sender: str | None, *, direction: str = "inbound",
          recipient: str = f"staff@{OUR_DOMAIN}", ip: str | None = "203.0.113.5", reason: str | None = "blocked",
          cause: str | None = "gateway_reputation") -> dict:
    return TrackingEvent(time=when, source="test", source_key=f"k{next(_keys)}", direction=direction,
                         disposition=disposition, sender=sender, recipient=recipient, client_ip=ip,
                         reason=reason, cause=cause).as_row()


def accepted(when: datetime, sender: str, ip: str = "198.51.100.20") -> dict:
    return event(when, "delivered", sender, ip=ip, reason="delivered", cause="delivered")


def insert(store: Store, rows: list[dict]) -> int:
    with store.engine.begin() as conn:
        return insert_events(conn, rows)


def known_rows(zone: ZoneInfo | None = None) -> list[dict]:
    """The data set, with local hours in `zone` (UTC by default)."""
    rows: list[dict] = []
    for back in range(1, 15):                       # D-14 .. D-1
        day = D - timedelta(days=back)
        for n in range(3):                          # a partner whose mail always got through
            rows.append(accepted(at(day, 8 + n, zone=zone), "alice@partner.example"))
        rows.append(accepted(at(day, 12, zone=zone), "bob@steady.example"))
        if back <= 7:                               # baseline spam: 10 a day for the 7 days before D
            for n in range(10):
                rows.append(event(at(day, 1 + n, zone=zone), "rejected", f"spam{n}@spam.example",
                                  ip=f"192.0.2.{n}"))
    rows.append(event(at(D - timedelta(days=3), 14, zone=zone), "rejected", "carol@steady.example",
                      ip="198.51.100.30", reason="policyviolation", cause="gateway_policy"))
    # D: a spam run, a partner newly blocked, a steady sender blocked again, invalid recipients, bounces
    for n in range(40):
        rows.append(event(at(D, 3 + n % 4, n, zone=zone), "rejected", "spammer@bulk.example", ip="203.0.113.5"))
    for n in range(10):
        rows.append(event(at(D, 10, n, zone=zone), "rejected", "alice@partner.example", ip="198.51.100.7",
                          reason="spamdetected", cause="gateway_policy"))
    for n in range(5):
        rows.append(event(at(D, 15, n, zone=zone), "rejected", "carol@steady.example", ip="198.51.100.30",
                          reason="policyviolation", cause="gateway_policy"))
    for n, (rcpt, count) in enumerate((("departed@our.example", 6), ("jonh@our.example", 2),
                                        ("someone@elsewhere.example", 3))):
        for k in range(count):
            rows.append(event(at(D, 16, n * 10 + k, zone=zone), "rejected", "news@lists.example",
                              recipient=rcpt, ip="198.51.100.40", reason="userunknown", cause="invalid_recipient"))
    for n in range(4):
        rows.append(event(at(D, 11, n, zone=zone), "bounced", f"user{n}@{OUR_DOMAIN}", direction="outbound",
                          recipient=f"x{n}@gmail.example", ip=None, reason="blocked", cause="remote_blacklist"))
    for n in range(2):
        rows.append(event(at(D, 12, n, zone=zone), "bounced", f"user{n}@{OUR_DOMAIN}", direction="outbound",
                          recipient=f"y{n}@corp.example", ip=None, reason="mailboxfull",
                          cause="recipient_unavailable"))
    rows.append(event(at(D, 13, zone=zone), "deferred", f"user9@{OUR_DOMAIN}", direction="outbound",
                      recipient="z@slow.example", ip=None, reason="systemerror", cause="transient"))
    for n in range(7):
        rows.append(accepted(at(D, 9, n, zone=zone), "bob@steady.example"))
    return rows


#: What D holds, by construction
D_BLOCKED = 40 + 10 + 5 + 6 + 2 + 3          # 66
D_BOUNCED = 4 + 2                            # 6
D_ACCEPTED = 7
PREV_BLOCKED = 10                            # D-1
AVG_BLOCKED = 10.0                           # D-7 .. D-1 (carol's one block is on D-3: see test)
