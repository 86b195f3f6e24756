"""Find what a person asks about in a chat message: "why did mail from <mailto:a@b|a@b> bounce?".

Slack rewrites what people type: addresses become `<mailto:a@b|a@b>`, domains `<http://b.example|b.example>`,
mentions `<@U123>`, and `<`, `>`, `&` arrive as `&lt;`, `&gt;`, `&amp;`. `plain_text` undoes that;
`find_target` then picks the most specific thing in the text (message-id, address, IP, domain).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from bot.targets import Target, is_address, is_domain, normalize_ip, parse_target
from bot.timeutil import parse_since

_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_PREFIXED = re.compile(r"\b(msgid|message-id|mid|queue|qid|to|rcpt|ip|domain|from):\s*(\S+)", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<([^<>\s@]{1,250}@[^<>\s@]{1,250})>")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]")
_SINCE = re.compile(r"\b(?:since|in the last|last|for the last|over the last)\s+(\S+)", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""

#: Lines that mark a pasted bounce (a DSN or a provider's plain-text bounce), not a question.
_BOUNCE_MARKERS = re.compile(
    r"^(?:final-recipient|diagnostic-code|original-recipient|reporting-mta|action:\s*failed|status:\s*[45]\.)"
    r"|undelivered mail returned to sender|delivery status notification|mail delivery (?:failed|subsystem)"
    r"|could not be delivered|delivery has failed|message not delivered|returned mail|mailer-daemon"
    r"|\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Question:
    target: Target | None
    since: datetime | None = None


def plain_text(text: str) -> str:
    """Slack markup undone: links become their address or host, mentions vanish, entities are decoded."""

    def unwrap(match: re.Match[str]) -> str:
        inner, label = match.group(1), match.group(2)
        if inner[:1] in "@#!":
            return " "
        if inner.lower().startswith("mailto:"):
            return inner[7:]
        if label and not label.lower().startswith(("http://", "https://")):
            return label
        host = re.sub(r"^[a-z]+://", "", inner, flags=re.IGNORECASE).split("/", 1)[0]
        return host

    return html.unescape(_MARKUP.sub(unwrap, text or ""))


def find_target(text: str) -> Target | None:
    """The most specific target named in the text, or None."""
    raw_unescaped = html.unescape(_MARKUP.sub(lambda m: " " if m.group(1)[:1] in "@#!" else m.group(0), text or ""))
    for match in _MESSAGE_ID.finditer(raw_unescaped):
        if not match.group(1).lower().startswith("mailto:"):
            return Target("message_id", match.group(1))
    plain = plain_text(text)
    for match in _PREFIXED.finditer(plain):
        try:
            return parse_target(f"{match.group(1)}:{match.group(2).rstrip(_TRAILING)}")
        except ValueError:
            continue
    for match in _ADDRESS.finditer(plain):
        candidate = match.group(0).rstrip(_TRAILING)
        if is_address(candidate):
            return Target("address", candidate.lower())
    for pattern in (_IPV4, _IPV6):
        for match in pattern.finditer(plain):
            ip = normalize_ip(match.group(0))
            if ip:
                return Target("ip", ip)
    for match in _WORD.finditer(plain):
        word = match.group(0).rstrip(_TRAILING)
        if "." in word and is_domain(word) and not word.rsplit(".", 1)[1].isdigit():
            return Target("domain", word.lower())
    return None


def find_since(text: str, now: datetime | None = None) -> datetime | None:
    """'since 7d', 'in the last 2 days'-style windows ('7d', '12h', '2026-11-01'); None when absent or odd."""
    match = _SINCE.search(plain_text(text))
    if not match:
        return None
    try:
        return parse_since(match.group(1).rstrip(_TRAILING), now=now)
    except ValueError:
        return None


def read_question(text: str) -> Question:
    return Question(find_target(text), find_since(text))


def looks_like_bounce(text: str) -> bool:
    """A pasted bounce: several lines and at least two of the DSN / bounce markers."""
    plain = plain_text(text)
    return plain.count("\n") >= 2 and len(_BOUNCE_MARKERS.findall(plain)) >= 2
