"""Auto-replies (RFC 3834): out-of-office and vacation answers. Reason `vacation`; the recipient is the
address that answered (From:). Tried only after no bounce was found: many bounces also say auto-replied.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from bot.bounce.found import Found
from bot.bounce.message import header, headers

_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?repl(?:y|ies)|auto[ -]?response|autoreply|auto:|out of (?:the )?office|"
    r"away(?: from| until)?|on vacation|vacation|abwesenheit|absence|r[ée]ponse automatique|"
    r"risposta automatica|respuesta autom[áa]tica)",
    re.IGNORECASE,
)


def is_autoreply(message: Message) -> bool:
    if header(message, "auto-submitted").strip().lower().startswith("auto-replied"):
        return True
    if any(header(message, name) for name in ("x-autoreply", "x-autorespond", "x-autoresponder")):
        return True
    if header(message, "precedence").strip().lower() == "auto_reply":
        return True
    return bool(_SUBJECT.match(header(message, "subject")))


def detect(message: Message) -> list[Found]:
    if not is_autoreply(message):
        return []
    senders = [a.lower() for _, a in getaddresses(headers(message, "from")) if "@" in a]
    subject = header(message, "subject").strip()
    return [Found(address=senders[0] if senders else "", text=f"auto-reply: {subject}"[:200], reason="vacation")]
