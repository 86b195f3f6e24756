"""Reading a bounce message: bytes in, an email.message.Message and its human-readable report text out.

Bounces come with LF or CRLF line ends (or a mix), in any charset, sometimes with broken MIME. Nothing here
raises on bad input except BadMessage, whose text is meant for the user as it is.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.header import Header, decode_header
from email.message import Message
from itertools import pairwise

#: Lines that start the returned copy of the original message in plain-text bounces. Everything from here
#: on is the sender's own mail, whose addresses and words must not be read as the bounce's.
_ORIGINAL_MARKERS = re.compile(
    r"^\s*(?:"
    r"\|?-+ ?(?:this is a copy of|"  # "|---- Message text follows: ---|": Smail 3 (T-Online)
    r"below this line is a copy|original message|the original message|"
    r"original message follows|returned mail|unsent message|message text follows|"
    r"the header of the original message|headers of the original message|undelivered message|"
    r"message headers? follows?|returned message|original mail info)"
    r"|---+ ?original message ?-+"
    r"|below is a copy of the original message"            # OpenSMTPD
    r"|included is a copy of the message header"           # McAfee MXLogic
    r"|the first \d+ lines of your original message follow"  # various (Netscape, hosted MTAs)
    r"|original message (?:follows|headers?)"
    r"|message headers? follows?"
    r"|original message:\s*$"
    r"|the (?:original|returned) message (?:was|is) (?:attached|below|included)"
    r"|\*+ ?original message"
    r"|content-type: message/(?:rfc822|partial)"
    r"|content-type: text/rfc822-headers"
    r"|received: ?from \S.*\bby\b"                          # also Zoho's "Received:from x by y"
    r"|received: ?from \S[^\n]*\n\s+by\b"                   # a folded header: "by" on the next line
    r")",
    re.IGNORECASE | re.MULTILINE,
)

_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
#: File signatures of common binary formats (PDF, ZIP/Office, gzip, PNG, JPEG, GIF, ELF).
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF")


#: A mail message has at least one of these headers.
_MAIL_HEADERS = ("from", "to", "subject", "date", "received", "message-id", "return-path", "content-type",
                 "mime-version", "delivered-to", "x-failed-recipients")


class BadMessage(ValueError):
    """A file that is not a mail message at all (empty, binary, no headers)."""


def load(data: bytes) -> Message:
    """Parse bytes as a mail message; BadMessage if they cannot be one."""
    if not data or not data.strip():
        raise BadMessage("empty file")
    head = data[:4096]
    if head.startswith(_BINARY_MAGIC) or len(_BINARY_CONTROL.findall(head)) > max(2, len(head) // 100):
        raise BadMessage("binary data, not a mail message")
    normalized = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").lstrip(b"\n")
    if normalized.startswith(b"From ") and b"\n" in normalized:  # mbox "From " separator line
        normalized = normalized.split(b"\n", 1)[1]
    message = email.message_from_bytes(_refold(normalized), policy=email.policy.compat32)
    if not any(name in message for name in _MAIL_HEADERS):
        # Text pasted from a mail client (the body of a bounce, without its headers) is read as a body; lines
        # such as "Final-Recipient: ..." at its top are the report's, not headers.
        message = email.message_from_bytes(b"\n" + normalized, policy=email.policy.compat32)
    return message


_FIELD_LINE = re.compile(rb"^[!-9;-~]+:")


#: The most continuation lines one header field was seen to lose its folding on (Received, Received-SPF).
_MAX_UNFOLDED = 4


def _longest_run(indexes: list[int]) -> int:
    """The longest run of consecutive numbers in a sorted list."""
    longest = run = 1
    for before, after in pairwise(indexes):
        run = run + 1 if after == before + 1 else 1
        longest = max(longest, run)
    return longest


def _refold(data: bytes) -> bytes:
    """Header continuation lines that lost their leading white space (a relay or a copy-paste unfolded them)
    put back into their field: otherwise the header block ends there and the real headers (From, Subject,
    Content-Type) are read as body text. Only lines followed by more header fields before the blank line."""
    head, sep, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    if len(lines) < 3 or not _FIELD_LINE.match(lines[0]):
        return data
    last_field = max(i for i, line in enumerate(lines) if _FIELD_LINE.match(line))
    broken = [i for i, line in enumerate(lines[:last_field]) if i and line[:1] not in (b" ", b"\t")
              and not _FIELD_LINE.match(line)]
    if not broken or _longest_run(broken) > _MAX_UNFOLDED:
        return data  # a long run is a body that starts without its blank line, not a field's lost folding
    for i in broken:
        lines[i] = b" " + lines[i]
    return b"\n".join(lines) + sep + body


_ESCAPED = re.compile("[\udc80-\udcff]")


def unescape(text: str) -> str:
    """8-bit bytes the parser kept as surrogate escapes, read as UTF-8 (RFC 6532/6533 addresses, raw headers)."""
    if _ESCAPED.search(text):
        return text.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    return text


def text_of(value: object) -> str:
    """A header value as str: 8-bit headers come back from the parser as Header objects in "unknown-8bit",
    which are UTF-8 in practice (RFC 6532 addresses); undecodable bytes become U+FFFD, never an exception."""
    if isinstance(value, Header):
        parts = []
        try:
            for chunk, charset in decode_header(value):
                if isinstance(chunk, bytes):
                    name = charset if charset and charset != "unknown-8bit" else "utf-8"
                    try:
                        parts.append(chunk.decode(name, errors="replace"))
                    except LookupError:
                        parts.append(chunk.decode("utf-8", errors="replace"))
                else:
                    parts.append(chunk)
        except (UnicodeError, LookupError, ValueError):
            return repr(value)
        return "".join(parts)
    return unescape(str(value))


def header(message: Message, name: str) -> str:
    """A header's value as str ("" when absent)."""
    value = message.get(name)
    return "" if value is None else text_of(value)


def headers(message: Message, name: str) -> list[str]:
    """Every value of a repeated header, as str."""
    return [text_of(value) for value in message.get_all(name, [])]


def decoded_text(part: Message) -> str:
    """A text part's payload as str, decoded from its transfer encoding and charset (never raises)."""
    encoding = header(part, "content-transfer-encoding").strip().lower()
    raw = part.get_payload()
    if isinstance(raw, str) and encoding not in ("base64", "quoted-printable") and _ESCAPED.search(raw):
        # 8-bit text was read with surrogate escapes: back to the original bytes, then decoded by the charset
        payload: bytes | None = raw.encode("utf-8", "surrogateescape")
    else:
        payload = part.get_payload(decode=True)
    if payload is None:
        return raw if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset() or "utf-8"
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):
        # an unknown or malformed charset name ("us\x00ascii"): the bytes are still mostly ASCII in bounces
        return payload.decode("latin-1", errors="replace")


_TAG = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|p|div|tr|li)\b[^>]*>", re.IGNORECASE)
_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}


def html_to_text(html: str) -> str:
    """Good enough for the short HTML bounces Office 365 and others send: tags dropped, entities resolved."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = _BREAKS.sub("\n", text)
    text = _TAG.sub("", text)
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text


#: Lines that only separate a footer or signature from the text above ("____", "-- ", "****", "====").
_SEPARATOR = re.compile(r"^\s*(?:_{5,}.*|-- ?|\*{3,}|={5,}|-{5,})\s*$")
#: What relays and antivirus gateways append to every mail they pass, bounces included: a notice that the mail
#: was scanned and found clean. Its "virus" is no finding about the message and must not be classified.
_FOOTER = re.compile(
    r"scanned (?:for (?:all )?viruses|by .{0,60}(?:anti-?virus|virus|messagelabs|symantec))"
    r"|(?:analizado|analisado|gepr\w+ft|checked|verified|protected) (?:con|com|von|by|with) .{0,40}anti-?virus"
    r"|\bnod32\b|virus-?free|no virus found|antivirus system"
    r"|please consider the environment before printing",
    re.IGNORECASE,
)


#: A scanner's finding ("checked by ClamAV antivirus: virus found") is the diagnosis, not a footer.
_FINDING = re.compile(r"\b(?:found|infected|detected|contains?|rejected|refused|quarantined|blocked)\b",
                      re.IGNORECASE)
_CLEAN = re.compile(r"no viru?s(?:es)? (?:was |were )?found|virus-?free", re.IGNORECASE)


def cut_footers(text: str) -> str:
    """The text without the paragraphs a relay or antivirus gateway appends (and the separator before them):
    the bounce's diagnosis is never there, and their words ("scanned for all viruses") would be read as one."""
    if not _FOOTER.search(text):
        return text
    paragraphs = re.split(r"(\n[ \t]*\n)", text)
    kept: list[str] = []
    for chunk in paragraphs:
        if _FOOTER.search(chunk) and not _FINDING.search(_CLEAN.sub("", chunk)):
            lines = chunk.split("\n")
            # only the footer's own lines go: up from the notice to its separator line or the paragraph start
            first = next(i for i, line in enumerate(lines) if _FOOTER.search(line))
            start = first
            while start > 0 and not _SEPARATOR.match(lines[start - 1]) and lines[start - 1].strip() \
                    and first - start < 2:
                start -= 1
            if start > 0 and _SEPARATOR.match(lines[start - 1]):
                start -= 1
            chunk = "\n".join(lines[:start])
        kept.append(chunk)
    return "".join(kept)


def cut_original(text: str) -> str:
    """The text before the returned copy of the original message."""
    match = _ORIGINAL_MARKERS.search(text)
    return text[: match.start()] if match else text


#: The human-readable part of every bounce seen is a few kilobytes; reading more only costs time.
MAX_REPORT = 200_000


def report_text(message: Message) -> str:
    """The human-readable part of a bounce: text parts outside any returned message, original cut off."""
    plain: list[str] = []
    html: list[str] = []
    _collect(message, plain, html, top=True)
    text = "\n".join(plain) if plain else "\n".join(html_to_text(h) for h in html)
    return cut_footers(cut_original(text[: MAX_REPORT * 4]))[:MAX_REPORT]


def _collect(part: Message, plain: list[str], html: list[str], *, top: bool) -> None:
    ctype = part.get_content_type()
    if part.is_multipart():
        if ctype == "message/rfc822" and not top:
            return
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _collect(sub, plain, html, top=False)
        return
    if ctype in ("message/rfc822", "text/rfc822-headers", "message/delivery-status",
                 "message/feedback-report", "message/disposition-notification"):
        return
    if not top and header(part, "content-disposition").strip().lower().startswith("attachment"):
        return  # an attached file (often the original headers as .txt): not the bounce's own words
    if ctype == "text/html":
        html.append(decoded_text(part))
    elif ctype.startswith(("text/", "multipart/")) or top:
        # a broken multipart (boundary mismatch) arrives as one part: its body is still the bounce's text
        plain.append(decoded_text(part))


def own_parts(message: Message) -> list[Message]:
    """Every part of a message outside the messages it returns or forwards (message/rfc822 parts): the
    report in those is about another delivery."""
    parts = [message]
    payload = message.get_payload() if message.is_multipart() else None
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message) and sub.get_content_type() != "message/rfc822":
                parts.extend(own_parts(sub))
            elif isinstance(sub, Message):
                parts.append(sub)  # the returned message itself, not its inside
    return parts


def original_message(message: Message) -> Message | None:
    """The returned original message (message/rfc822 or text/rfc822-headers part, or the text after a
    plain-text bounce's "original message follows" line), if any."""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if ctype == "text/rfc822-headers":
            return email.message_from_string(decoded_text(part).lstrip(), policy=email.policy.compat32)
    for part in message.walk():
        if part.is_multipart() or not part.get_content_type().startswith("text/"):
            continue
        text = decoded_text(part)
        match = _ORIGINAL_MARKERS.search(text)
        if match:
            if match.group(0).lstrip().lower().startswith(("received:", "content-type:")):
                rest = text[match.start():]
            else:  # the marker line itself is no header: start on the line after it
                rest = text[match.end():]
                rest = rest[rest.find("\n") + 1:] if "\n" in rest else ""
            rest = rest.lstrip()
            if rest:
                return email.message_from_string(rest, policy=email.policy.compat32)
    return None
