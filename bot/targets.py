"""What a user asks about: a sender address, a domain, an IP, a message-id (or a queue id, a recipient)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,62}}$", re.IGNORECASE)
_LOCAL = re.compile(r"^[^\s@<>()\[\],;:\"]{1,64}$")
_QUEUE_ID = re.compile(r"^(?:[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{12,20})$")
_PREFIXES = {
    "msgid": "message_id", "message-id": "message_id", "mid": "message_id",
    "queue": "queue_id", "qid": "queue_id",
    "to": "recipient", "rcpt": "recipient",
    "from": "address", "ip": "ip", "domain": "domain",
}

#: The null sender: bounce messages (DSNs) and auto-replies are sent with an empty envelope sender, MAIL FROM:<>.
NULL_SENDER = "<>"

USAGE = (
    "give a sender address (alice@partner.example), a domain (partner.example), an IP (192.0.2.10) "
    "or a message-id (<id@host>); prefixes: msgid:, queue:, to:"
)


@dataclass(frozen=True)
class Target:
    kind: str   # address | domain | ip | message_id | queue_id | recipient
    value: str

    def __str__(self) -> str:
        return self.value


def is_address(text: str) -> bool:
    local, sep, domain = text.rpartition("@")
    return bool(sep) and bool(_LOCAL.match(local)) and bool(_DOMAIN.match(domain))


def is_domain(text: str) -> bool:
    return len(text) <= 253 and bool(_DOMAIN.match(text.rstrip(".")))


def normalize_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def parse_target(text: str) -> Target:
    """Classify one target; raises ValueError with usage text when it is none of the kinds."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(f"nothing to look up: {USAGE}")
    if raw in (NULL_SENDER, "&lt;&gt;"):
        return Target("address", NULL_SENDER)
    prefix, sep, rest = raw.partition(":")
    if sep and prefix.lower() in _PREFIXES and rest and normalize_ip(raw) is None:
        return _as_kind(_PREFIXES[prefix.lower()], rest.strip())
    if raw.startswith("<") and raw.endswith(">") and "@" in raw:
        return Target("message_id", raw[1:-1])
    if raw.lower().startswith("mailto:"):
        raw = raw[7:]
    ip = normalize_ip(raw)
    if ip:
        return Target("ip", ip)
    if is_address(raw):
        return Target("address", raw.lower())
    if raw.startswith("@") and is_domain(raw[1:]):
        return Target("domain", raw[1:].lower().rstrip("."))
    if is_domain(raw):
        return Target("domain", raw.lower().rstrip("."))
    if _QUEUE_ID.match(raw):
        return Target("queue_id", raw)
    raise ValueError(f"not something I can look up: {raw[:80]!r}; {USAGE}")


def _as_kind(kind: str, value: str) -> Target:
    if kind == "message_id":
        return Target(kind, value.strip("<>"))
    if kind == "ip":
        ip = normalize_ip(value)
        if not ip:
            raise ValueError(f"not an IP address: {value[:80]!r}")
        return Target(kind, ip)
    if kind in ("address", "recipient"):
        if not is_address(value):
            raise ValueError(f"not an e-mail address: {value[:80]!r}")
        return Target(kind, value.lower())
    if kind == "domain":
        if not is_domain(value):
            raise ValueError(f"not a domain: {value[:80]!r}")
        return Target(kind, value.lower().rstrip("."))
    return Target(kind, value)
