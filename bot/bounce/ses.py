"""Amazon SES notifications (JSON, as SNS e-mail or pasted): bounces, complaints, deliveries.

`{"notificationType": "Bounce", "bounce": {"bouncedRecipients": [{"emailAddress", "action", "status",
"diagnosticCode"}]}}`; a Complaint is a feedback report, a Delivery is delivered.
"""

from __future__ import annotations

import json
import re
from email.message import Message

from bot.bounce.found import Found
from bot.bounce.message import decoded_text

_DECODER = json.JSONDecoder()


#: Where a JSON object with string keys can start; at most _MAX_TRIES of them are tried (a text full of braces
#: must not cost quadratic time).
_OBJECT_START = re.compile(r"\{\s*\"")
_MAX_TRIES = 20


def _notification(text: str) -> dict[str, object] | None:
    for tries, start in enumerate(_OBJECT_START.finditer(text)):
        if tries >= _MAX_TRIES:
            break
        try:
            value, _ = _DECODER.raw_decode(text, start.start())
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and isinstance(value.get("Message"), str) and value.get("Type") == "Notification":
            # SNS wraps the SES notification as a JSON string in "Message"
            inner = _notification(value["Message"])
            if inner is not None:
                return inner
        if isinstance(value, dict) and ("notificationType" in value or "eventType" in value):
            return value
    return None


def _texts(message: Message) -> list[str]:
    return [decoded_text(p) for p in message.walk() if not p.is_multipart()
            and p.get_content_type() in ("text/plain", "application/json")]


def detect(message: Message) -> list[Found]:
    for text in _texts(message):
        if "notificationType" not in text and '"eventType"' not in text:
            continue
        data = _notification(text.replace("\n", ""))
        if data is None:
            continue
        kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
        if kind == "bounce":
            bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
            found = []
            for entry in bounce.get("bouncedRecipients") or []:  # type: ignore[union-attr]
                if isinstance(entry, dict) and entry.get("emailAddress"):
                    found.append(Found(address=str(entry["emailAddress"]).lower(),
                                       status=str(entry.get("status") or "") or None,
                                       text=str(entry.get("diagnosticCode") or bounce.get("bounceSubType") or ""),
                                       action=str(entry.get("action") or "") or None))
            return found
        if kind == "complaint":
            complaint = data.get("complaint") if isinstance(data.get("complaint"), dict) else {}
            return [Found(address=str(e.get("emailAddress")).lower(), text="feedback report: complaint",
                          reason="feedback")
                    for e in complaint.get("complainedRecipients") or []  # type: ignore[union-attr]
                    if isinstance(e, dict) and e.get("emailAddress")]
        if kind == "delivery":
            delivery = data.get("delivery") if isinstance(data.get("delivery"), dict) else {}
            return [Found(address=str(a).lower(), status="2.0.0", action="delivered",
                          text=str(delivery.get("smtpResponse") or "delivered"))  # type: ignore[union-attr]
                    for a in delivery.get("recipients") or []]  # type: ignore[union-attr]
    return []
