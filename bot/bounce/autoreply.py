"""Auto-replies (RFC 3834): out-of-office and vacation answers. Reason `vacation`; the recipient is the
address that answered (From:). Tried only after no bounce was found: many bounces also say auto-replied.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from bot.bounce.found import Found

_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?repl(?:y|ies)|auto[ -]?response|autoreply|auto:|out of (?:the )?office|"
    r"away(?: from| until)?|on vacation|vacation|abwesenheit|absence|r[ée]ponse automatique|"
    r"risposta automatica|respuesta autom[áa]tica)",
    re.IGNORECASE,
)


def is_autoreply(message: Message) -> bool:
    submitted = (message.get("auto-submitted") or "").strip().lower()
    if submitted.startswith("auto-replied"):
        return True
    if message.get("x-autoreply") or message.get("x-autorespond") or message.get("x-autoresponder"):
        return True
    if (message.get("precedence") or "").strip().lower() == "auto_reply":
        return True
    return bool(_SUBJECT.match(str(message.get("subject") or "")))


def detect(message: Message) -> list[Found]:
    if not is_autoreply(message):
        return []
    senders = [a.lower() for _, a in getaddresses([str(v) for v in message.get_all("from", [])]) if "@" in a]
    subject = str(message.get("subject") or "").strip()
    return [Found(address=senders[0] if senders else "", text=f"auto-reply: {subject}"[:200], reason="vacation")]
