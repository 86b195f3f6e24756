"""TMEMS log records as the API returns them: hand-written samples (with what each must become) and a
synthetic generator for volume (the benchmark)."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MB = 1024 * 1024
#: In an expectation: decided by bot.reasons.classify from the downstream reply, checked elsewhere.
ANY = "<classifier decides>"


def stamp(moment: datetime) -> str:
    """The API's ISO 8601 UTC format, to the millisecond."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def accepted(when: datetime, *, action: str, sender: str, recipient: str, direction: str = "in",
             details: str | None = None, size: int = 20_480, sender_ip: str = "192.0.2.10",
             mail_id: str | None = None, message_id: str | None = None) -> dict[str, Any]:
    """An accepted-traffic record shaped as the published ones: genTime a little after timestamp, headerTo a
    list, deliveredTo `host[ip]:port` (`none` on a bounce), and no key that does not apply (a Quarantined or
    held record has no deliveredTo, deliveryTime or details)."""
    mail_id = mail_id or str(uuid.uuid4())
    record: dict[str, Any] = {
        "genTime": stamp(when), "timestamp": stamp(when - timedelta(seconds=2)),
        "sender": sender, "recipient": recipient, "direction": direction,
        "messageID": message_id or f"<{mail_id[:8]}@{sender.rpartition('@')[2] or 'example.net'}>",
        "subject": "Quarterly figures", "size": size, "mailID": mail_id, "action": action,
        "tlsInfo": "upstreamTLS: TLS 1.3", "headerFrom": sender, "headerTo": [recipient],
        "senderIP": sender_ip, "attachments": [{"fileName": "figures.xlsx", "sha256": "0" * 64}],
    }
    if action in ("Delivered", "Redirected"):
        record["deliveryTime"] = stamp(when - timedelta(seconds=1))
        record["deliveredTo"] = ("mx.partner.example[198.51.100.20]:25" if direction == "out"
                                 else "mail.ourcorp.example[10.0.0.25]:25")
    elif action == "Bounced":
        record["deliveryTime"] = stamp(when - timedelta(seconds=1))
        record["deliveredTo"] = "none"
    if details:
        record["details"] = details
    return record


def blocked(when: datetime, *, reason: str, sender: str, recipient: str, direction: str = "in",
            details: str | None = None, size: int | None = None, sender_ip: str = "203.0.113.7",
            mail_id: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "genTime": stamp(when), "timestamp": stamp(when - timedelta(seconds=1)),
        "sender": sender, "recipient": recipient, "direction": direction, "mailID": mail_id or str(uuid.uuid4()),
        "reason": reason, "senderIP": sender_ip,
    }
    if details:
        record["details"] = details
    if size is not None:
        record["size"] = size
    return record


def policy_event(when: datetime, *, event_type: str, policy_name: str, policy_action: str, sender: str,
                 recipients: list[str], direction: str = "in", size: int = 8_108, details: Any = None,
                 subtype: str | None = None, message_id: str | None = None) -> dict[str, Any]:
    """A policy event as published: `recipients` a list, a `messageID` and no `mailID`, `details` an object."""
    message_id = message_id or f"<{uuid.uuid4().hex[:12]}@{sender.rpartition('@')[2]}>"
    record: dict[str, Any] = {
        "genTime": stamp(when), "timestamp": stamp(when - timedelta(seconds=3)), "sender": sender,
        "recipients": recipients, "direction": direction, "domainName": sender.rpartition("@")[2],
        "messageID": message_id, "subject": "Verify your account", "size": size,
        "policyName": policy_name, "eventType": event_type, "policyAction": policy_action,
        "headerFrom": sender, "headerTo": recipients,
        "details": details if details is not None else {"threatNames": "Troj,SPY", "fileInfo": [
            {"fileName": "file1", "fileSha256": "ab" * 32, "threatName": "Troj,SPY"}]},
    }
    if subtype is not None:
        record["eventSubtype"] = subtype
    return record


@dataclass(frozen=True)
class Expect:
    """One sample record and the event it must become."""

    kind: str
    record: dict[str, Any]
    disposition: str
    reason: str | None
    cause: str | None
    direction: str = "inbound"


def samples(now: datetime) -> list[Expect]:
    """Every accepted-traffic action, several blocked reasons, policy events; times within the last hour."""
    t = now - timedelta(minutes=50)
    ours, theirs = "ourcorp.example", "partner.example"
    out = "outbound"
    s: list[Expect] = []

    def add(kind: str, record: dict[str, Any], disposition: str, reason: str | None, cause: str | None,
            direction: str = "inbound") -> None:
        s.append(Expect(kind, record, disposition, reason, cause, direction))

    a, b = "accepted_traffic", "blocked_traffic"
    add(a, accepted(t, action="Delivered", sender=f"alice@{theirs}", recipient=f"bob@{ours}",
                    details="250 2.0.0 Ok: queued as 3CBEFC0811"),
        "delivered", "delivered", "delivered")
    add(a, accepted(t, action="Redirected", sender=f"carol@{theirs}", recipient=f"dan@{ours}"),
        "delivered", "delivered", "delivered")
    add(a, accepted(t, action="Bounced", sender=f"erin@{ours}", recipient=f"nobody@{theirs}", direction="out",
                    details=f"host mx.{theirs}[198.51.100.20] said: 550 5.1.1 <nobody@{theirs}>: Recipient "
                            "address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"),
        "bounced", "userunknown", "invalid_recipient", out)
    add(a, accepted(t, action="Bounced", sender=f"frank@{ours}", recipient=f"gina@{theirs}", direction="out",
                    details=f"host mx.{theirs}[198.51.100.20] said: 554 5.7.1 Service unavailable; Client host "
                            "[192.0.2.10] blocked using zen.spamhaus.org (in reply to RCPT TO command)"),
        "bounced", "blocked", "remote_blacklist", out)
    add(a, accepted(t, action="Expired", sender=f"hank@{ours}", recipient=f"ivy@{theirs}", direction="out",
                    details=f"connect to mx.{theirs}[198.51.100.20]:25: Connection timed out"),
        "expired", "expired", "transient", out)
    add(a, accepted(t, action="Temporary delivery error", sender=f"jack@{ours}", recipient=f"kim@{theirs}",
                    direction="out", details="451 4.7.1 Greylisted, please try again later"),
        "deferred", ANY, "transient", out)
    add(a, accepted(t, action="Deferred", sender=f"lee@{ours}", recipient=f"max@{theirs}", direction="out",
                    details="421 4.4.2 Connection dropped"),
        "deferred", ANY, "transient", out)
    add(a, accepted(t, action="Deleted", sender=f"spam@{theirs}", recipient=f"nina@{ours}"),
        "deleted", "filtered", "gateway_policy")
    add(a, accepted(t, action="Quarantined", sender=f"promo@{theirs}", recipient=f"oscar@{ours}"),
        "quarantined", "filtered", "gateway_policy")
    for n, action in enumerate(("Scanning in sandbox", "Submitted to sandbox", "Password analyzing")):
        add(a, accepted(t, action=action, sender=f"paula{n}@{theirs}", recipient=f"quinn{n}@{ours}"),
            "accepted", "onhold", None)
    add(b, blocked(t, reason="Sender IP found in KSSL", sender=f"bulk@{theirs}", recipient=f"rita@{ours}",
                   details="550 5.7.1 Mail from 203.0.113.7 blocked using Trend Micro Email Reputation database"),
        "rejected", "blocked", "gateway_reputation")
    add(b, blocked(t, reason="Sender IP found in QIL", sender=f"wave@{theirs}", recipient=f"sam@{ours}"),
        "deferred", "blocked", "transient")
    add(b, blocked(t, reason="Rate limit temporarily exceeded", sender=f"fast@{theirs}", recipient=f"sue@{ours}"),
        "deferred", "speeding", "transient")
    add(b, blocked(t, reason="Sender IP found in block list", sender=f"y@{theirs}", recipient=f"tom@{ours}"),
        "rejected", "blocked", "gateway_reputation")
    add(b, blocked(t, reason="Sender blocked (block list)", sender=f"z@{theirs}", recipient=f"uma@{ours}"),
        "rejected", "rejected", "gateway_policy")
    add(b, blocked(t, reason="Recipient invalid", sender=f"alice@{theirs}", recipient=f"typo@{ours}",
                   details="550 5.1.1 Recipient address rejected: User unknown"),
        "rejected", "userunknown", "invalid_recipient")
    add(b, blocked(t, reason="Message too big", sender=f"big@{theirs}", recipient=f"vic@{ours}", size=60 * MB,
                   details="552 5.3.4 Message size exceeds fixed limit"),
        "rejected", "mesgtoobig", "gateway_policy")
    # No reason TMEMS words we know, but the size is over our 50 MB policy limit.
    add(b, blocked(t, reason="Permanent", sender=f"huge@{theirs}", recipient=f"wes@{ours}", size=51 * MB),
        "rejected", "mesgtoobig", "gateway_policy")
    add(b, blocked(t, reason="Sender IP not allowed", sender=f"erin@{ours}", recipient=f"xena@{theirs}",
                   direction="out", sender_ip="198.51.100.99"),
        "rejected", "norelaying", "gateway_policy", out)
    add(b, blocked(t, reason="TLS not available", sender=f"plain@{theirs}", recipient=f"yan@{ours}"),
        "rejected", "failedstarttls", "gateway_policy")
    p = "policy_events"
    add(p, policy_event(t, event_type="Web Reputation", policy_name="Organization: Web Reputation",
                        policy_action="Quarantine", sender=f"paypal@{theirs}", recipients=[f"zoe@{ours}"],
                        details={"urlInfo": [{"url": "http://example.com", "extractType": "body"}]}),
        "quarantined", "spamdetected", "gateway_policy")
    add(p, policy_event(t, event_type="Malware", subtype="Pattern-based scanning",
                        policy_name="Organization: Global Outbound Policy (Virus)", policy_action="Delete",
                        sender=f"erin@{ours}", recipients=[f"abe@{theirs}"], direction="out"),
        "deleted", "virusdetected", "gateway_policy", out)
    add(p, policy_event(t, event_type="Malware", subtype="Predictive Machine Learning",
                        policy_name="Organization: Malware", policy_action="Attachment deleted",
                        sender=f"cv@{theirs}", recipients=[f"hr@{ours}"]),
        "delivered", "virusdetected", "gateway_policy")
    return s


# --- volume ----------------------------------------------------------------------------------------------------
_ACTIONS = ("Delivered",) * 14 + ("Bounced", "Deferred", "Quarantined", "Deleted", "Expired",
                                   "Temporary delivery error", "Scanning in sandbox")
_REASONS = ("Sender IP found in KSSL", "Sender IP found in QIL", "Recipient invalid", "Sender blocked (block list)",
            "Message too big", "Sender IP found in block list", "Rate limit temporarily exceeded")
_REPLIES = ("550 5.1.1 <{r}>: Recipient address rejected: User unknown",
            "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using b.barracudacentral.org",
            "452 4.2.2 Mailbox full", "421 4.7.0 Try again later")


def synthetic(n: int, start: datetime, end: datetime, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """n records spread over [start, end): 80% accepted, 20% blocked, like a gateway under a spam wave."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    out: dict[str, list[dict[str, Any]]] = {"accepted_traffic": [], "blocked_traffic": []}
    for i in range(n):
        when = start + timedelta(seconds=span * i / n)
        mail_id = str(uuid.UUID(int=rng.getrandbits(128)))
        sender = f"user{rng.randrange(5000)}@sender{rng.randrange(300)}.example"
        recipient = f"rcpt{rng.randrange(2000)}@ourcorp.example"
        if rng.random() < 0.8:
            action = rng.choice(_ACTIONS)
            details = (rng.choice(_REPLIES).format(r=recipient)
                       if action in ("Bounced", "Deferred", "Expired", "Temporary delivery error") else None)
            out["accepted_traffic"].append(accepted(when, action=action, sender=sender, recipient=recipient,
                                                    details=details, mail_id=mail_id,
                                                    size=rng.randrange(2_000, 400_000)))
        else:
            out["blocked_traffic"].append(blocked(when, reason=rng.choice(_REASONS), sender=sender,
                                                  recipient=recipient, mail_id=mail_id,
                                                  sender_ip=f"203.0.113.{rng.randrange(1, 255)}"))
    return out


# --- the published records (../shared/corpus/tmems/samples.json) ------------------------------------------------
_TIME_KEYS = ("genTime", "timestamp", "deliveryTime")


def published(path: Path, now: datetime) -> dict[str, Any]:
    """samples.json with every record moved into the last hour (the API serves 72 hours), each record's times
    shifted together so their order is kept (genTime later than timestamp); everything else as published, the
    `_source` notes left out (the API does not send them)."""
    data = json.loads(path.read_text())
    out: dict[str, Any] = {"documented_vocab": data["documented_vocab"], "page_example": data["page_example"]}
    n = 0
    for kind in ("accepted_traffic", "blocked_traffic", "policy_events"):
        records = []
        for record in data[kind]:
            n += 1
            gen = datetime.fromisoformat(record["genTime"].replace("Z", "+00:00"))
            shift = (now - timedelta(minutes=2 * n)) - gen
            moved = {k: v for k, v in record.items() if not k.startswith("_")}
            for key in _TIME_KEYS:
                if key in moved:
                    moved[key] = stamp(datetime.fromisoformat(moved[key].replace("Z", "+00:00")) + shift)
            records.append(moved)
        out[kind] = records
    return out
