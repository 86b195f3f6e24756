"""DKIM (RFC 6376): does `selector._domainkey.domain` publish a key record, and does it parse?

dkimpy reads the record (`dkim.evaluate_pk`: tags, version, key type, RSA/Ed25519 key); we fetch it on our
resolver. Where selectors come from: a pasted bounce's DKIM-Signature headers (`selectors_in_headers`), or
BOUNCEBOT_DKIM_SELECTORS for our own domains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import dkim
import dns.asyncresolver

from bot.auth.dnsask import FAILED, FOUND, ask

_SIGNATURE = re.compile(r"^DKIM-Signature:(?P<value>.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_TAG = re.compile(r"(?:^|;)\s*(?P<name>[a-z]+)\s*=\s*(?P<value>[^;]*)", re.IGNORECASE)
_SELECTOR = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62})$")


@dataclass(frozen=True)
class DkimResult:
    """`found`: True (a key that parses), False (no record, or one that does not parse), None (unknown)."""

    selector: str
    domain: str
    found: bool | None
    key_type: str | None = None
    key_bits: int | None = None
    error: str | None = None

    @property
    def verdict(self) -> str:
        return "unknown" if self.found is None else ("ok" if self.found else "problem")

    def to_json(self) -> dict[str, Any]:
        return {"selector": self.selector, "domain": self.domain, "found": self.found, "key_type": self.key_type,
                "key_bits": self.key_bits, "error": self.error, "verdict": self.verdict}


def valid_selector(text: str) -> bool:
    return bool(_SELECTOR.match(text))


def selectors_in_headers(text: str) -> list[tuple[str, str]]:
    """(domain, selector) of every DKIM-Signature header in a message's header text, in order, no repeats."""
    found: list[tuple[str, str]] = []
    for match in _SIGNATURE.finditer(text):
        value = re.sub(r"\s+", " ", match.group("value"))
        tags = {m.group("name").lower(): m.group("value").strip() for m in _TAG.finditer(value)}
        pair = (tags.get("d", "").lower().rstrip("."), tags.get("s", ""))
        if pair[0] and valid_selector(pair[1]) and pair not in found:
            found.append(pair)
    return found


async def check_dkim(resolver: dns.asyncresolver.Resolver, domain: str, selector: str, *,
                     lifetime: float) -> DkimResult:
    name = f"{selector}._domainkey.{domain}"
    answer = await ask(resolver, name, "TXT", lifetime)
    if answer.status == FAILED:
        return DkimResult(selector, domain, None, error=answer.error)
    records = [t for t in answer.values if "p=" in t.replace(" ", "")] if answer.status == FOUND else []
    if not records:
        return DkimResult(selector, domain, False, error=f"no DKIM key record at {name}")
    if len(records) > 1:
        return DkimResult(selector, domain, False, error=f"{name} has {len(records)} key records")
    tags = {m.group("name").lower(): m.group("value").strip() for m in _TAG.finditer(records[0])}
    if "p" in tags and not tags["p"].replace(" ", ""):
        return DkimResult(selector, domain, False, error=f"the key at {name} is revoked (empty p=)")
    try:
        key, bits, key_type, _tlsrpt = dkim.evaluate_pk(name.encode(), records[0].encode("ascii", "replace"))
    except dkim.KeyFormatError as exc:
        return DkimResult(selector, domain, False, error=f"the key record at {name} does not parse: {exc}")
    except Exception as exc:  # dkimpy raises other errors for odd keys (e.g. Ed25519 without PyNaCl)
        return DkimResult(selector, domain, None, error=f"the key at {name} could not be read: {type(exc).__name__}")
    if key is None:
        return DkimResult(selector, domain, False, error=f"the key at {name} is not for e-mail (s= tag)")
    kind = key_type.decode() if isinstance(key_type, bytes) else str(key_type)
    error = f"the {bits}-bit RSA key is too short (1024 bits at least)" if kind == "rsa" and bits < 1024 else None
    return DkimResult(selector, domain, error is None, kind, bits, error)
