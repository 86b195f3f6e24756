"""Plain-text bounces (Exim, qmail, Sendmail, Gmail, Exchange, hosted filters...): recipients and their text.

There is no standard here, only habits: the failed address alone on a line (Exim, Gmail), `<addr>:` followed
by the reply (qmail), `<addr>... reply` (Sendmail), `Recipient: addr` headings, or a sentence ("Your message
to addr couldn't be delivered"). The text that belongs to a recipient is what follows its line up to the next
recipient. Addresses of the bounce's own sender and addressee are never recipients.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from bot.bounce.found import Found
from bot.bounce.message import headers, original_message
from bot.reasons import phrases
from bot.reasons.normalize import normalize, reply_code_in, status_in

_ADDR = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"

#: Recipient lines, most specific first; group "addr" is the recipient, group "rest" (if any) the reply.
_LINE_PATTERNS = tuple(re.compile(p, re.IGNORECASE) for p in (
    # Exim, Gmail, Postfix human part: the address alone on its line, maybe in <> and with a colon (qmail),
    # or twice ("addr <addr>", Active!hunter), after ">>>" or a bullet.
    r"^[\s>*-]*(?:rcpt:?\s*)?[<\"']?(?P<addr>" + _ADDR + r")[>\"']?\s*:?\s*(?:<" + _ADDR + r">)?\s*$",
    # Sendmail "<addr>... User unknown", qmail "<addr>: reply", Exchange "addr on date"
    r"^\s*[<\"'(]?(?P<addr>" + _ADDR + r")[>\"')]?\s*(?:\.\.\.|:|--|-|,)\s*(?P<rest>.+)$",
    # Headings: "Failed recipient: addr", "Original-Recipient: rfc822;addr", "To: addr", "Address: addr"
    r"^\s*(?:failed|final|original|unknown|invalid|bad|intended|undeliverable)?[ -]?"
    r"(?:recipients?|recipient address(?:es)?|addresses|address|rcpt to|e-?mail(?: address)?|user|mailbox)"
    r"\s*(?:\([^)]*\))?\s*[:=]\s*(?:rfc822\s*;\s*)?[<\"']?(?P<addr>" + _ADDR + r")[>\"']?(?P<rest>.*)$",
    # Zoho: "[Status: Error, Address: <addr>, ResponseCode 421, , Host not reachable.]"
    r"^.*?\baddress:\s*<(?P<addr>" + _ADDR + r")>(?P<rest>.*)$",
    # Sendmail transcripts: "554 <addr>... 550 Host unknown" (the verdict line per recipient)
    r"^\s*[245]\d\d\s+<(?P<addr>" + _ADDR + r")>\.\.\.\s*(?P<rest>.*)$",
    # "The following recipients returned permanent errors: addr. Reason: ..."
    r"^.*?\b(?:recipients?|address(?:es)?)\b[^:@]{0,60}:\s*[<\"']?(?P<addr>" + _ADDR + r")[>\"']?(?P<rest>.*)$",
    # Sendmail/qmail transcripts: ">>> RCPT To:<addr>" (the reply comes on the next lines)
    r"^\s*>>>\s*rcpt to:\s*<(?P<addr>" + _ADDR + r")>",
    # Sentences: "Your message to addr couldn't be delivered", "could not be delivered to <addr>",
    # "Delivery to addr failed", "unable to deliver ... to addr"
    r"^.*?(?:(?:deliver\w*|sen[dt]\w*|message|mail|failed|addressed|relay\w*|transmi\w*)\s+(?:[\w']+\s+){0,3}to"
    r"|for)\s+(?:the following (?:recipients?|address(?:es)?):?\s*)?"
    r"[<\"']?(?P<addr>" + _ADDR + r")[>\"']?(?P<rest>.*)$",
    # IMail and others: "User mailbox exceeds allowed size: addr" (the reply first, the address last)
    r"^(?P<rest>[^@]{6,}?):\s*[<\"']?(?P<addr>" + _ADDR + r")[>\"']?\s*$",
    # Any line that starts with an address followed by text
    r"^[\s>*-]*[<\"']?(?P<addr>" + _ADDR + r")[>\"']?\s+(?P<rest>.+)$",
))

_NOT_RECIPIENT_LOCAL = frozenset({"mailer-daemon", "mail-daemon", "maildaemon", "bounce",
                                  "bounces", "no-reply", "noreply", "daemon", "root"})
#: Header lines quoted in a report whose addresses are message ids or the sender's.
_NOT_RECIPIENT_LINE = re.compile(r"message-id|in-reply-to|references:|^\W*from:|envelope-from|mail from:",
                                 re.IGNORECASE)
_MAX_LINES = 25
#: Lotus Notes writes the reason above the address: "------- Failure Reasons --------", the reason, the address.
_REASONS_ABOVE = re.compile(r"^\s*-+\s*failure reasons?\s*-+\s*$", re.IGNORECASE)
#: The address the sender wrote, when the bounce names the one an alias expanded it to: Sendmail
#: "someone@example.com\n    (expanded from: <Someone@example.net>)". (Postfix's "<a@x> (expanded from <b@y>):"
#: comes with a DSN whose Final-Recipient is the alias target, the address the DSN reports.)
_EXPANDED_FROM = re.compile(r"\(expanded from:\s*<?(?P<addr>" + _ADDR + r")>?\)", re.IGNORECASE)


def _own_addresses(message: Message) -> set[str]:
    """Addresses of the bounce itself (its sender and addressee): those are the original sender's."""
    values = []
    for name in ("from", "to", "reply-to", "return-path", "sender"):
        values.extend(headers(message, name))
    return {addr.lower() for _, addr in getaddresses(values) if "@" in addr}


def _usable(address: str, own: set[str]) -> bool:
    local = address.split("@", 1)[0].lower()
    return address.lower() not in own and local not in _NOT_RECIPIENT_LOCAL


def recipient_lines(lines: list[str], own: set[str]) -> list[tuple[int, str, str]]:
    """(line index, address, rest of line) for each line that introduces a failed recipient."""
    found: list[tuple[int, str, str]] = []
    for index, line in enumerate(lines):
        if "@" not in line or _NOT_RECIPIENT_LINE.search(line):
            continue
        for pattern in _LINE_PATTERNS:
            match = pattern.match(line)
            if match and _usable(match.group("addr"), own):
                rest = match.groupdict().get("rest") or ""
                if line.lstrip().startswith(">>>"):  # a transcript's command line: keep it, it tells the stage
                    rest = line.strip()
                found.append((index, match.group("addr").strip(".").lower(), rest.strip()))
                break
    return found


def _reason_above(lines: list[str], index: int) -> str:
    """The lines between a "Failure Reasons" heading and the address line (Lotus Notes), or ""."""
    for above in range(index - 1, max(-1, index - 10), -1):
        if _REASONS_ABOVE.match(lines[above]):
            return "\n".join(line for line in lines[above + 1:index] if line.strip()).strip()
        if "@" in lines[above]:
            return ""  # another recipient's line: the heading, if any, is not this address's
    return ""


def _from_original(message: Message, report: str) -> list[Found]:
    """Last resort: the To: of the returned original message, with the whole report as the text."""
    original = original_message(message)
    if original is None:
        return []
    own = _own_addresses(message)
    addresses = [a.lower() for _, a in getaddresses(headers(original, "to"))
                 if "@" in a and _usable(a, own)]
    return [Found(address=addresses[0], text=report.strip(), only_report=True)] if addresses else []


def detect(message: Message, report: str) -> list[Found]:
    """Failed recipients of a plain-text bounce, in the order the text names them."""
    own = _own_addresses(message)
    lines = report.splitlines()
    hits = recipient_lines(lines, own)
    if not hits:
        # Some bounces (and anonymized samples) name as failed recipient the very address they are sent to;
        # only the bounce's own sender is then certainly not a recipient.
        hits = recipient_lines(lines, {a.lower() for _, a in getaddresses(headers(message, "from"))})
    failed_header = [a.lower() for _, a in getaddresses(headers(message, "x-failed-recipients")) if "@" in a]
    if failed_header:
        # Exim names its failed recipients in a header: trust it, and keep the text's order where it has one.
        hits = [h for h in hits if h[1] in failed_header]
        named = {h[1] for h in hits}
        hits += [(len(lines), a, "") for a in failed_header if a not in named]
    results: dict[str, Found] = {}
    for position, (index, address, rest) in enumerate(hits):
        end = hits[position + 1][0] if position + 1 < len(hits) else len(lines)
        end = min(end, index + _MAX_LINES)
        block = "\n".join([rest, *lines[index + 1:end]]).strip()
        if not block:
            block = _reason_above(lines, index)
        expanded = _EXPANDED_FROM.search("\n".join([rest, *lines[index + 1:min(end, index + 3)]]))
        if expanded and _usable(expanded.group("addr"), own):
            address = expanded.group("addr").lower()  # the one the sender wrote, not its alias target
        if address in results:
            if block and block not in results[address].text:
                results[address].text = f"{results[address].text}\n{block}".strip()
            continue
        results[address] = Found(address=address, text=block)
    found = list(results.values())
    if not found:
        found = _from_original(message, report)
    whole = report.strip()
    for item in found:
        if reply_code_in(item.text) is None and status_in(item.text) is None and not phrases.match(
                normalize(item.text)):
            item.only_report = not item.text.strip()
            item.text = f"{item.text}\n{whole}".strip() if item.text else whole
    return found
