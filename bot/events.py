"""The tracking event: one message x recipient x outcome, as every log source produces it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


def split_domain(address: str | None) -> str | None:
    """Return the lowercase domain of an address, or None for the null sender or a bare local part."""
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def reverse_domain(domain: str | None) -> str | None:
    """'mx.partner.example' -> 'example.partner.mx.': subdomains share a prefix, so a range scan finds them."""
    if not domain:
        return None
    return ".".join(reversed(domain.lower().rstrip(".").split("."))) + "."


@dataclass(slots=True)
class TrackingEvent:
    """One row of the tracking store. Times are timezone-aware UTC."""

    time: datetime
    source: str
    source_key: str
    direction: str
    disposition: str
    sender: str | None = None
    recipient: str | None = None
    client_ip: str | None = None
    client_host: str | None = None
    helo: str | None = None
    relay: str | None = None
    message_id: str | None = None
    queue_id: str | None = None
    size: int | None = None
    nrcpt: int | None = None
    smtp_code: int | None = None
    enhanced_status: str | None = None
    reply_text: str | None = None
    stage: str | None = None
    rejected_by: str | None = None
    reason: str | None = None
    cause: str | None = None
    dnsbl_zone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sender_domain(self) -> str | None:
        return split_domain(self.sender)

    @property
    def recipient_domain(self) -> str | None:
        return split_domain(self.recipient)

    def as_row(self) -> dict[str, Any]:
        """The column values for storage (derived domain columns included, `extra` left out)."""
        # Not dataclasses.asdict: it deep-copies every value, and ingestion calls this for every event.
        row = {name: getattr(self, name) for name in _ROW_FIELDS}
        row["sender"] = (self.sender or "").lower() or None
        row["recipient"] = (self.recipient or "").lower() or None
        row["sender_domain"] = self.sender_domain
        row["sender_domain_rev"] = reverse_domain(self.sender_domain)
        row["recipient_domain"] = self.recipient_domain
        return row


#: The dataclass fields that are columns (everything but `extra`).
_ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TrackingEvent) if f.name != "extra")
