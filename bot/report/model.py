"""The report's content, and its JSON form (stable field names: docs/report.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

#: The grand totals, in pflogsumm's order.
TOTAL_FIELDS: tuple[str, ...] = (
    "received", "delivered", "forwarded", "deferred", "deferrals", "bounced", "rejected", "reject_warnings",
    "held", "discarded", "bytes_received", "bytes_delivered", "senders", "sending_domains", "recipients",
    "recipient_domains",
)
#: The columns of the per-hour and per-day tables (pflogsumm's: "deferred" counts deferrals, "rejected" counts
#: rejects, reject warnings, holds and discards).
TRAFFIC_FIELDS: tuple[str, ...] = ("received", "delivered", "deferred", "bounced", "rejected")


@dataclass
class Totals:
    received: int = 0
    delivered: int = 0
    forwarded: int = 0
    deferred: int = 0
    deferrals: int = 0
    bounced: int = 0
    rejected: int = 0
    reject_warnings: int = 0
    held: int = 0
    discarded: int = 0
    bytes_received: int = 0
    bytes_delivered: int = 0
    senders: int = 0
    sending_domains: int = 0
    recipients: int = 0
    recipient_domains: int = 0
    rejected_percent: int = 0
    discarded_percent: int = 0
    expired: int = 0


@dataclass
class Traffic:
    """One row of the per-hour or per-day table."""

    received: int = 0
    delivered: int = 0
    deferred: int = 0
    bounced: int = 0
    rejected: int = 0

    def add(self, column: str, n: int) -> None:
        setattr(self, column, getattr(self, column) + n)


@dataclass
class RecipientDomain:
    domain: str
    sent: int
    bytes: int
    deferred: int
    avg_delay: float | None
    max_delay: float | None


@dataclass
class SendingDomain:
    domain: str
    messages: int
    bytes: int


@dataclass
class Ranked:
    """An address with its message count and bytes."""

    address: str
    messages: int
    bytes: int


@dataclass
class Problem:
    """A group of rejects, warnings, holds, discards, deferrals or bounces."""

    kind: str        # rejected | reject_warning | held | discarded | deferred | bounced
    stage: str | None
    reason: str
    status: str | None
    host: str | None  # the remote host (deferrals and bounces)
    count: int
    example: str | None


@dataclass
class Waiting:
    """A message × recipient deferred and not yet delivered, bounced or expired."""

    queue_id: str
    recipient: str | None
    sender: str | None
    since: datetime
    last: datetime
    deferrals: int
    host: str | None
    reply: str | None


@dataclass
class Report:
    first: date
    last: date
    zone: str
    start: datetime
    end: datetime
    totals: Totals = field(default_factory=Totals)
    hours: list[Traffic] = field(default_factory=lambda: [Traffic() for _ in range(24)])
    days: dict[date, Traffic] = field(default_factory=dict)
    recipient_domains: list[RecipientDomain] = field(default_factory=list)
    sending_domains: list[SendingDomain] = field(default_factory=list)
    senders_by_count: list[Ranked] = field(default_factory=list)
    senders_by_size: list[Ranked] = field(default_factory=list)
    recipients_by_count: list[Ranked] = field(default_factory=list)
    recipients_by_size: list[Ranked] = field(default_factory=list)
    rejects: list[Problem] = field(default_factory=list)
    deferrals: list[Problem] = field(default_factory=list)
    bounces: list[Problem] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    waiting_total: int = 0
    now: datetime | None = None
    notices: list[str] = field(default_factory=list)
    top: int = 10

    @property
    def single_day(self) -> bool:
        return self.first == self.last

    @property
    def empty(self) -> bool:
        return not any(getattr(self.totals, name) for name in TOTAL_FIELDS) and not any(
            vars(row)[c] for row in self.hours for c in TRAFFIC_FIELDS) and not self.waiting_total

    def label(self) -> str:
        if self.single_day:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    def to_json(self) -> dict[str, Any]:
        def stamp(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "period": {"first": self.first.isoformat(), "last": self.last.isoformat(), "zone": self.zone,
                       "start": stamp(self.start), "end": stamp(self.end)},
            "notices": list(self.notices),
            "totals": {name: getattr(self.totals, name) for name in (
                *TOTAL_FIELDS, "rejected_percent", "discarded_percent", "expired")},
            "hours": [{"hour": hour, **asdict(row)} for hour, row in enumerate(self.hours)],
            "days": [{"date": day.isoformat(), **asdict(row)} for day, row in sorted(self.days.items())],
            "recipient_domains": [asdict(d) for d in self.recipient_domains],
            "sending_domains": [asdict(d) for d in self.sending_domains],
            "top": {
                "senders_by_count": [asdict(r) for r in self.senders_by_count],
                "senders_by_size": [asdict(r) for r in self.senders_by_size],
                "recipients_by_count": [asdict(r) for r in self.recipients_by_count],
                "recipients_by_size": [asdict(r) for r in self.recipients_by_size],
            },
            "rejects": [asdict(p) for p in self.rejects],
            "deferrals": [asdict(p) for p in self.deferrals],
            "bounces": [asdict(p) for p in self.bounces],
            "now": {"as_of": stamp(self.now), "deferred": self.waiting_total,
                    "oldest": [{**asdict(w), "since": stamp(w.since), "last": stamp(w.last)} for w in self.waiting]},
        }
