"""The diagnosis: one object, rendered as text, Block Kit and JSON (schema in docs/diagnosis-json.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1


def target_phrase(kind: str, value: str) -> str:
    """'from alice@x.example', 'with message-id <id>': how a sentence names the target."""
    if kind == "address" and value == "<>":
        return "from the null sender (bounce messages)"
    return {
        "address": f"from {value}", "domain": f"from {value} (or its subdomains)", "ip": f"from the IP {value}",
        "message_id": f"with message-id <{value}>", "queue_id": f"with queue id {value}",
        "recipient": f"to {value}", "recipient_domain": f"to {value}",
    }.get(kind, value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class Evidence:
    """One event quoted as evidence."""

    time: datetime
    direction: str
    disposition: str
    sender: str | None
    recipient: str | None
    client_ip: str | None
    client_host: str | None
    relay: str | None
    smtp_code: int | None
    enhanced_status: str | None
    reply_text: str | None
    size: int | None
    nrcpt: int | None
    message_id: str | None
    queue_id: str | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "time": _iso(self.time), "direction": self.direction, "disposition": self.disposition,
            "sender": self.sender, "recipient": self.recipient, "client_ip": self.client_ip,
            "client_host": self.client_host, "relay": self.relay, "smtp_code": self.smtp_code,
            "enhanced_status": self.enhanced_status, "reply_text": self.reply_text, "size": self.size,
            "nrcpt": self.nrcpt, "message_id": self.message_id, "queue_id": self.queue_id, "source": self.source,
        }


@dataclass
class Finding:
    """Failures of one kind (direction x cause x reason x DNSBL zone)."""

    cause: str
    reason: str
    direction: str
    count: int
    first_seen: datetime
    last_seen: datetime
    recipients: list[str]
    client_ips: list[str]
    dnsbl_zone: str | None
    evidence: list[Evidence]
    next_steps: list[str]
    facts: list[str] = field(default_factory=list)
    score: float = 0.0
    expired: bool = False  # the queue gave up: returned to the sender after its retries (bot.diagnosis.expiry)

    def to_json(self) -> dict[str, Any]:
        return {
            "cause": self.cause, "reason": self.reason, "direction": self.direction, "count": self.count,
            "expired": self.expired,
            "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen),
            "recipients": self.recipients, "client_ips": self.client_ips, "dnsbl_zone": self.dnsbl_zone,
            "evidence": [e.to_json() for e in self.evidence], "next_steps": self.next_steps,
            "facts": self.facts, "score": round(self.score, 4),
        }


@dataclass
class Verdict:
    cause: str
    reason: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "reason": self.reason, "text": self.text}


@dataclass
class Contact:
    """Whom to contact at the receiving side (causes 4 and 5)."""

    domain: str
    postmaster: str
    soa_contact: str | None = None
    provider: str | None = None
    provider_page: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "postmaster": self.postmaster, "soa_contact": self.soa_contact,
                "provider": self.provider, "provider_page": self.provider_page}


@dataclass
class Diagnosis:
    target_kind: str
    target_value: str
    since: datetime | None
    until: datetime
    summary: dict[str, int]
    verdict: Verdict
    findings: list[Finding]
    approved_sender: bool
    approval: dict[str, Any] | None
    caveats: list[str]
    newest_event: datetime | None
    history: str | None = None
    nonexistent_recipients: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    blacklists: list[dict[str, Any]] = field(default_factory=list)
    blacklist_notes: list[str] = field(default_factory=list)
    authentication: dict[str, Any] | None = None  # bot.diagnosis.authentication (null when not run)
    suggestions: list[str] = field(default_factory=list)
    generated_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"Why did mail {target_phrase(self.target_kind, self.target_value)} bounce?"

    @property
    def found(self) -> bool:
        return sum(self.summary.values()) > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "target": {"kind": self.target_kind, "value": self.target_value},
            "window": {"since": _iso(self.since), "until": _iso(self.until)},
            "summary": dict(self.summary),
            "verdict": self.verdict.to_json(),
            "findings": [f.to_json() for f in self.findings],
            "approved_sender": self.approved_sender,
            "approval": self.approval,
            "history": self.history,
            "nonexistent_recipients": self.nonexistent_recipients,
            "contacts": [c.to_json() for c in self.contacts],
            "blacklists": self.blacklists,
            "blacklist_notes": self.blacklist_notes,
            "authentication": self.authentication,
            "suggestions": self.suggestions,
            "caveats": self.caveats,
            "newest_event": _iso(self.newest_event),
            "generated_at": _iso(self.generated_at),
        }
