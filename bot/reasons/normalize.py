"""Turn a raw SMTP reply into the form the tables match against, and pull codes out of it.

Multi-line replies arrive joined with their `550-5.7.26 ` prefixes in the middle of sentences (Postfix logs
them that way); the prefixes are dropped so that phrases spanning a line break still match.
"""

from __future__ import annotations

import re

#: `550-5.7.26 ` or `550-` continuation prefixes inside a joined multi-line reply.
_CONTINUATION = re.compile(r"(?<![\w.])[245]\d\d-(?:[245]\.\d{1,3}\.\d{1,3}\s*)?")
_SPACE = re.compile(r"\s+")
#: Enhanced status codes in free text: `#5.1.1` (qmail), `550 5.1.1`, `(5.1.1)` or bare `5.1.1`.
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
#: Where a reply code is found, most reliable first: at the start of the text, right before an enhanced
#: status code, after a lead-in ("said:", "<<<"), then any 4xx/5xx standing alone. A bare 2xx elsewhere in a
#: bounce is a size or a count more often than a reply.
_REPLY_CODES = (
    re.compile(r"^\W{0,3}([245][0-5]\d)(?:[\s,:-]|$)"),
    re.compile(r"(?<![\d.])([245][0-5]\d)[\s-]+#?[245]\.\d{1,3}\.\d{1,3}"),
    re.compile(r"(?:said|reply|replied|responded with(?: failure)?|error(?: message)?|returned(?: was)?|"
               r"failed with|response|<<<|error_code|code)\s*:?\s*([245][0-5]\d)\b", re.IGNORECASE),
    re.compile(r"(?:^|[\s:;(\[])([45][0-5]\d)(?:[\s,:-]|$)"),
)


def normalize(text: str | None) -> str:
    """Lowercase, continuation prefixes removed, runs of white space collapsed to one blank."""
    if not text:
        return ""
    lowered = text.lower()
    if "-" in lowered:
        lowered = _CONTINUATION.sub(" ", lowered)
    return _SPACE.sub(" ", lowered).strip()


def status_in(text: str | None) -> str | None:
    """The first enhanced status code written in a text (`5.7.1`), if any."""
    if not text:
        return None
    match = _STATUS.search(text)
    return ".".join(match.groups()) if match else None


def reply_code_in(text: str | None) -> int | None:
    """The first three-digit SMTP reply code in a text, if any."""
    if not text:
        return None
    for pattern in _REPLY_CODES:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


def clean_status(status: str | None) -> str | None:
    """`5.1.1` stays, `#5.1.1`/`5.1.1 ` are trimmed, anything that is no status code becomes None."""
    if not status:
        return None
    match = _STATUS.search(status)
    return ".".join(match.groups()) if match else None


#: What never decides a classification: the local part of an <address> (the recipient a refusal names) and IPv4
#: addresses (the client a block list names). Their neutral stand-ins keep the text's shape ("<x@domain>", a
#: documentation address), so the tables read it as before.
_LOCAL_PART = re.compile(r"(?<=<)[^<>@\s]+(?=@[^<>@\s]+>)")
_IPV4 = re.compile(r"(?<![\w.-])(?:\d{1,3}\.){3}\d{1,3}(?![\w.-])")


def neutral_form(text: str) -> str:
    """The reply with the recipient's local part and IPv4 addresses replaced by fixed stand-ins: refusals that
    differ only there (most of a gateway's) classify alike, so a memo keyed by this form is hit instead of
    classifying each afresh. tests/reasons/test_reasons_neutral_form.py checks the classification is unchanged."""
    if "@" in text:
        text = _LOCAL_PART.sub("x", text)
    return _IPV4.sub("192.0.2.1", text)
