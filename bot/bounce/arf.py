"""ARF feedback reports (RFC 5965) and one-click unsubscribe mails: feedback about a message, not a bounce.
Reason `feedback`.

The reported recipients are the Original-Rcpt-To fields of the feedback part; when there are none, the
To: of the returned message (the complaining user).

Microsoft's Junk Mail Reporting Program (Outlook.com/Hotmail "complaint about message from <ip>") sends no
ARF part: the complained-about message comes back as message/rfc822 with the complaining mailbox in its
X-HmXmrOriginalRecipient header.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses

from bot.bounce.found import Found
from bot.bounce.message import decoded_text, header, headers, original_message, own_parts

_RCPT = re.compile(r"^original-rcpt-to:\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$", re.IGNORECASE | re.MULTILINE)
_TYPE = re.compile(r"^feedback-type:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def is_feedback(message: Message) -> bool:
    if message.get_content_type() == "multipart/report" and \
            str(collapse_rfc2231_value(message.get_param("report-type") or "")).lower() == "feedback-report":
        return True
    # a bounce of a feedback report carries the report inside its returned message: that is no feedback
    return any(p.get_content_type() == "message/feedback-report" for p in own_parts(message))


def _report_text(message: Message) -> str:
    for part in own_parts(message):
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list):
                return "\n".join(f"{k}: {v}" for sub in payload if isinstance(sub, Message) for k, v in sub.items())
            return decoded_text(part)
    return ""


def detect(message: Message) -> list[Found]:
    if header(message, "x-apple-unsubscribe").strip().lower() == "true":
        # Apple Mail's "unsubscribe" button mails the list's opt-out address: feedback from that recipient
        senders = [a.lower() for _, a in getaddresses(headers(message, "from")) if "@" in a]
        return [Found(address=senders[0] if senders else "", text="unsubscribe request (Apple Mail)",
                      reason="feedback")]
    if not is_feedback(message):
        return _jmrp(message)
    report = _report_text(message)
    kind = _TYPE.search(report)
    text = f"feedback report: {kind.group(1)}" if kind else "feedback report"
    addresses = [a.lower() for a in _RCPT.findall(report)]
    if not addresses:
        original = original_message(message)
        if original is not None:
            addresses = [a.lower() for _, a in getaddresses(headers(original, "to")) if "@" in a][:1]
    if not addresses:
        addresses = [""]
    return [Found(address=a, text=text, reason="feedback") for a in addresses]


#: The header Microsoft's JMRP puts on the returned copy: the mailbox whose user pressed "junk".
_JMRP_RECIPIENT = "x-hmxmroriginalrecipient"


def _jmrp(message: Message) -> list[Found]:
    """A Microsoft JMRP complaint (no ARF part): feedback from the X-HmXmrOriginalRecipient mailbox."""
    if message.get_content_maintype() != "multipart":
        return []
    original = original_message(message)
    if original is None:
        return []
    addresses = [a.lower() for _, a in getaddresses(headers(original, _JMRP_RECIPIENT)) if "@" in a]
    return [Found(address=a, text="feedback report: abuse (Microsoft JMRP)", reason="feedback")
            for a in addresses[:1]]
