"""RFC 3464 delivery status notifications: multipart/report with a message/delivery-status part.

Per-recipient fields: Final-Recipient (or Original-Recipient), Action, Status, Diagnostic-Code, Remote-MTA.
The same fields also appear as plain text in bounces whose MIME structure is broken or absent, so the
field parser works on text and is used for both.
"""

from __future__ import annotations

import re
from email.message import Message

from bot.bounce.found import Found
from bot.bounce.message import decoded_text, text_of, unescape

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s?(.*)$")
_ADDRESS = re.compile(r"[^\s<>\"';:,()\[\]]+@[^\s<>\"';:,()\[\]]+")


def _blocks(text: str) -> list[dict[str, str]]:
    """Field blocks separated by blank lines; continuation lines folded into their field."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            current[last] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        if not match and last == "diagnostic-code":
            # a multi-line reply written without folding white space ("552-5.7.0 ..." lines)
            current[last] += " " + line.strip()
            continue
        if match and match.group(1).lower() in ("final-recipient", "original-recipient") and \
                match.group(1).lower() in current:
            # two recipients' fields with no blank line between them: a new block starts here
            blocks.append(current)
            current = {}
        if match:
            last = match.group(1).lower()
            value = match.group(2).strip()
            current[last] = f"{current[last]} {value}" if last in current and last == "diagnostic-code" else value
        else:
            last = None
    if current:
        blocks.append(current)
    return blocks


def _address(value: str) -> str | None:
    """`rfc822; <x@y>` -> x@y."""
    _, _, rest = value.rpartition(";")
    match = _ADDRESS.search(rest or value)
    return match.group(0).strip(".").lower() if match else None


def _recipient(block: dict[str, str]) -> str | None:
    """The recipient a block reports: its Final-Recipient, else (none written, "system;<>", or an internal
    route such as "@stov1.example.com:user@ims_daemon") the Original-Recipient the sender wrote."""
    address = None
    for name in ("final-recipient", "original-recipient", "x-actual-recipient"):
        raw = block.get(name)
        found = _address(raw) if raw else None
        if found and not _internal(raw or "", found):
            return found
        address = address or found
    return address


def _internal(raw: str, address: str) -> bool:
    """A Final-Recipient that is no Internet address: a source route or a domain without a dot (a daemon)."""
    return raw.rpartition(";")[2].strip().lstrip("<").startswith("@") or "." not in address.rpartition("@")[2]


def _diagnostic(value: str) -> str:
    """`smtp; 550 5.1.1 ...` -> `550 5.1.1 ...` (the type prefix is dropped)."""
    kind, sep, rest = value.partition(";")
    if sep and re.fullmatch(r"\s*(?:smtp|x-[a-z0-9-]+|rfc822|x400|mail|dns)\s*", kind, re.IGNORECASE):
        return rest.strip()
    return value.strip()


def from_fields(text: str) -> list[Found]:
    """Every per-recipient block with a Final-Recipient/Original-Recipient in a DSN-formatted text."""
    found: list[Found] = []
    for block in _blocks(text):
        address = _recipient(block)
        if not address:
            continue
        raw_diagnostic = block.get("diagnostic-code", "")
        diagnostic = _diagnostic(raw_diagnostic)
        kind, sep, _ = raw_diagnostic.partition(";")
        remote = block.get("remote-mta", "")
        found.append(Found(
            address=address,
            status=(block.get("status") or "").split()[0] if block.get("status") else None,
            text=diagnostic,
            action=(block.get("action") or "").strip().lower() or None,
            diagnostic_type=kind.strip().lower() if sep else "",
            host=remote.rpartition(";")[2].strip().strip("[]").lower() or None if remote else None,
        ))
    return found


_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def _status_parts(part: Message, depth: int = 0) -> list[tuple[int, Message]]:
    """(depth, part) of every delivery-status part; depth counts the message/rfc822 parts around it."""
    if part.get_content_type() in _STATUS_TYPES:
        return [(depth, part)]
    payload = part.get_payload() if part.is_multipart() else None
    if not isinstance(payload, list):
        return []
    inner = depth + (part.get_content_type() == "message/rfc822")
    return [found for sub in payload if isinstance(sub, Message) for found in _status_parts(sub, inner)]


def outermost_status_parts(message: Message) -> list[Message]:
    """The delivery-status parts of the outermost report: a bounce that returns a bounce (or a forward of
    one) carries the inner report inside its message/rfc822 part, which is about another delivery."""
    found = _status_parts(message)
    if not found:
        return []
    shallowest = min(depth for depth, _ in found)
    return [part for depth, part in found if depth == shallowest]


def delivery_status_parts(message: Message) -> list[str]:
    """The text of each message/delivery-status part of the outermost report (email parses those into
    sub-messages: undo that)."""
    texts: list[str] = []
    for part in outermost_status_parts(message):
        payload = part.get_payload()
        if isinstance(payload, list):
            chunks = []
            for sub in payload:
                if isinstance(sub, Message):
                    chunks.append("\n".join(f"{k}: {text_of(v)}" for k, v in sub.items()))
                    body = sub.get_payload()
                    if isinstance(body, str) and body.strip():
                        # a separator line holding white space (or a global DSN's blocks) sits in the body
                        chunks.append(unescape(body))
            texts.append("\n\n".join(chunks))
        else:
            texts.append(decoded_text(part))
    return texts


def detect(message: Message) -> list[Found]:
    """Recipients from the message/delivery-status parts (empty when there are none)."""
    found: list[Found] = []
    for text in delivery_status_parts(message):
        found.extend(from_fields(text))
    return found
