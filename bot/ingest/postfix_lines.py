"""The shapes of Postfix log messages: compiled patterns and small pure helpers, no state.

Every pattern below matches what Postfix 3.x writes (smtpd.c, cleanup, qmgr, the delivery agents'
`to=<...>, relay=..., status=...` lines, postscreen); the examples next to them are real formats.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: Short queue ids are upper-case hex; long ones (enable_long_queue_ids) are base-52 with a 'z' separator.
QUEUE_ID = re.compile(r"(?:[0-9A-F]{6,}|[0-9A-Za-y]{8,}z[0-9A-Za-y]{4,})")

#: The daemons whose lines we read or knowingly ignore; a tag with another program is a foreign line.
DAEMONS = frozenset({
    "smtpd", "cleanup", "qmgr", "oqmgr", "smtp", "lmtp", "local", "virtual", "pipe", "bounce", "error",
    "discard", "retry", "postscreen", "pickup", "master", "anvil", "scache", "tlsmgr", "tlsproxy", "dnsblog",
    "postlogd", "proxymap", "trivial-rewrite", "verify", "flush", "showq", "sendmail", "postqueue",
    "postsuper", "postdrop", "postfix-script", "postfix", "postmap", "postalias", "spawn", "qmqpd",
    "smtp-sink", "postmulti", "postlog",
})

#: Delivery agents that put mail into a mailbox here (inbound) and the one that relays it away (outbound).
LOCAL_AGENTS = frozenset({"local", "virtual", "lmtp", "pipe"})
REMOTE_AGENTS = frozenset({"smtp"})

# "QID: to=<a@b>, orig_to=<c@d>, relay=mx.b[192.0.2.1]:25, conn_use=2, delay=0.4, delays=0/0/0.2/0.2,
#  dsn=5.1.1, status=bounced (host mx.b[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command))"
DELIVERY = re.compile(
    r"to=<(?P<rcpt>[^>]*)>, (?:orig_to=<(?P<orig>[^>]*)>, )?relay=(?P<relay>[^,]*), (?:conn_use=\d+, )?"
    r"delay=[^,]*, delays=[^,]*, dsn=(?P<dsn>[^,]*), status=(?P<status>[a-z]+)(?: \((?P<text>.*)\))?$"
)

#: A delivery's reply naming the queue id the receiving MTA gave the message: Postfix "250 2.0.0 Ok: queued as
#: 3F2A1C2", amavisd-new "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 3F2A1C2". When that
#: id is one of this log's own (its smtpd `client=` line came first), an after-queue content filter took the
#: message and handed it back to this Postfix: the new queue id carries the message on.
QUEUED_AS = re.compile(r"queued as (?P<qid>[0-9A-Za-z]{6,})\)?$")
#: A content filter that accepted the message and dropped it (amavisd-new's D_DISCARD): "250 2.7.0 Ok, discarded,
#: id=00835-01 - spam", "250 2.7.1 Ok, discarded, id=00835-02 - BANNED: ...". status=sent, and nothing delivered.
#: Group "what": the words after the codes (the codes say 2.x.x, success, which is what the filter told Postfix).
DISCARDED = re.compile(r"^2\d\d (?:2\.\d{1,3}\.\d{1,3} )?(?P<what>Ok, discarded\b.*)", re.IGNORECASE)


# "host mx.b[192.0.2.1] said: 550 5.1.1 text (in reply to RCPT TO command)", "... refused to talk to me: 554 ..."
REMOTE_REPLY = re.compile(
    r"^host (?P<host>[^\[\s]*)\[(?P<ip>[^\]]*)\](?::\d+)? (?P<verb>said|refused to talk to me): (?P<reply>.*?)"
    r"(?: \(in reply to (?P<command>.+?) command\))?$"
)

#: REMOTE_REPLY's head; the rest is cut with string operations (see split_relay_reply: the lazy reply made the
#: pattern try its optional tail at every position, 5 µs for a long reply).
_REMOTE_HEAD = re.compile(r"host (?P<host>[^\[\s]*)\[(?P<ip>[^\]]*)\](?::\d+)? (?P<verb>said|refused to talk to me): ")
_IN_REPLY_TO, _COMMAND_END = " (in reply to ", " command)"

# "QID: from=<a@b>, size=888, nrcpt=1 (queue active)" and "QID: from=<a@b>, status=expired, returned to sender"
QMGR_FROM = re.compile(r"from=<(?P<sender>[^>]*)>, (?:size=(?P<size>\d+), nrcpt=(?P<nrcpt>\d+)|status=(?P<status>\w+))")

# "QID: client=mail.example[192.0.2.1]" (maybe ", sasl_method=..." after it)
CLIENT = re.compile(r"client=(?P<host>[^\[\s]*)\[(?P<ip>[^\]]*)\]")

# "NOQUEUE: reject: RCPT from h[192.0.2.1]: 550 5.1.1 <x>: ...; from=<a> to=<b> proto=ESMTP helo=<h>"
# postscreen: "NOQUEUE: reject: RCPT from [192.0.2.1]:5678: 550 5.7.1 ...; from=<a>, to=<b>, proto=ESMTP, helo=<h>"
# CONNECT stage: "NOQUEUE: reject: CONNECT from h[192.0.2.1]: 554 5.7.1 ...; proto=SMTP"
SMTPD_REJECT = re.compile(
    r"(?P<stage>[A-Z][A-Z-]*) from (?P<host>[^\[\s]*)\[(?P<ip>[^\]]*)\](?::\d+)?: (?P<reply>.*?)"
    r"(?:; from=<(?P<sender>[^>]*)>)?(?:,? to=<(?P<rcpt>[^>]*)>)?(?:[;,]? proto=(?P<proto>[A-Za-z]+))?"
    r"(?:,? helo=<(?P<helo>[^>]*)>)?$"
)

#: The same line in two steps, for speed: SMTPD_REJECT's lazy reply tries its optional tail at every position
#: (11-14 µs a line); almost every reject's reply ends at its first "; from=<" (see smtpd_reject).
_REJECT_HEAD = re.compile(r"(?P<stage>[A-Z][A-Z-]*) from (?P<host>[^\[\s]*)\[(?P<ip>[^\]]*)\](?::\d+)?: ")
_REJECT_TAIL = re.compile(
    r"; from=<(?P<sender>[^>]*)>(?:,? to=<(?P<rcpt>[^>]*)>)?(?:[;,]? proto=(?P<proto>[A-Za-z]+))?"
    r"(?:,? helo=<(?P<helo>[^>]*)>)?$"
)
#: How SMTPD_REJECT's tail can begin, other than "; from=<": one of these before it could start the tail earlier.
_OTHER_TAIL_STARTS = (" to=<", " proto=", " helo=<")

# cleanup header/body checks: "QID: reject: header Subject: x from h[192.0.2.1]; from=<a> to=<b> proto=ESMTP
#  helo=<h>: 5.7.1 message content rejected"
CONTENT_REJECT = re.compile(
    r"(?P<what>header|body) (?P<content>.*?) from (?:(?P<host>[^\[\s;]*)\[(?P<ip>[^\]]*)\]|local)"
    r"(?:; from=<(?P<sender>[^>]*)>)?(?: to=<(?P<rcpt>[^>]*)>)?(?: proto=\S+)?(?: helo=<(?P<helo>[^>]*)>)?"
    r"(?:: (?P<reply>.*))?$"
)

# smtpd "lost connection after DATA (193 bytes) from unknown[127.0.0.27]", "timeout after DATA (0 bytes) from ...":
# the client went away in the middle of the message, which is then never queued.
LOST_IN_DATA = re.compile(
    r"(?P<what>lost connection|timeout) after (?P<command>DATA|BDAT)(?: \((?P<bytes>\d+) bytes\))? from "
    r"(?P<host>[^\[\s]*)\[(?P<ip>[^\]]*)\]"
)

# pickup "QID: uid=1000 from=<alice>" (mail submitted with sendmail(1) on this host)
PICKUP = re.compile(r"uid=\d+ from=<(?P<sender>[^>]*)>")

# smtpd "disconnect from h[192.0.2.1] ehlo=1 mail=1 rcpt=9 data=1 quit=1 commands=13"
DISCONNECT_COUNT = re.compile(r" (rcpt|data|bdat)=(\d+)(?:/(\d+))?")

# "550 5.1.1 text", "550-5.7.26 text", "5.7.1 text" (milters often give only the enhanced status)
_CODES = re.compile(r"^(?:(?P<code>[245]\d\d)(?:[ -]|$))?(?:(?P<status>[245]\.\d{1,3}\.\d{1,3})\b)?")

#: "in reply to X command" -> the SMTP stage vocabulary of bot.reasons.classify
COMMAND_STAGES = {
    "RCPT TO": "RCPT", "MAIL FROM": "MAIL", "end of DATA": "END-OF-MESSAGE", "DATA": "DATA",
    "BDAT": "DATA", "EHLO": "HELO", "HELO": "HELO", "LHLO": "HELO", "XFORWARD": "CONNECT",
    "STARTTLS": "HELO", "AUTH": "HELO",
}

#: The actions Postfix logs with a queue id (or NOQUEUE) and what they mean for the message.
ACTIONS = {
    "reject": "rejected", "milter-reject": "rejected",
    "discard": "deleted", "milter-discard": "deleted",
    "hold": "quarantined", "milter-hold": "quarantined",
}

#: Actions that leave the mail alone but name its envelope (cleanup's header/body/milter checks INFO, WARN,
#: REPLACE, PREPEND, REDIRECT, FILTER, BCC; smtpd's access-map actions). Their `from=<...> to=<...>` is the only
#: record of the sender of a message that never reaches qmgr (size limit without SIZE=, a client lost in DATA).
NOTICES = frozenset({"info", "warning", "replace", "prepend", "redirect", "filter", "bcc", "warn",
                     "reject_warning"})

#: Lines with a queue id that tell nothing about the mail's fate, ignored on purpose (every other unknown shape is
#: counted as unrecognised): bounce notices, queue operations, the smtp client's notes before a status= line, ...
IGNORED = (
    "sender non-delivery notification: ", "sender delivery status notification: ", "sender delay notification: ",
    "postmaster non-delivery notification: ", "postmaster delay notification: ", "requeued", "placed on hold",
    "released from hold", "skipped, still being delivered", "enabling PIX workarounds", "lost connection with ",
    "conversation with ", "host ", "Cannot start TLS", "TLS is required", "resent-message-id=",
)

#: Actions that only warn (smtpd warn_if_reject's `reject_warning:`, cleanup's WARN `warning: header ...`).
WARN_ACTIONS = frozenset({"reject_warning", "warning"})
#: How pickup's line for a message begins ("QID: uid=1000 from=<user>"; "sender=" in old versions).
PICKUP_STARTS = ("uid=", "sender=")
#: What the reply text of every reject the ingest infers (not logged by Postfix) contains.
INFERRED_MARK = " (inferred"

#: What the client is told when cleanup hits message_size_limit without a declared SIZE (smtpd.c).
SIZE_LIMIT_REPLY = "552 5.3.4 Message size exceeds fixed limit"
#: What smtpd tells a client over smtpd_recipient_limit (smtpd.c); Postfix does not log it.
TOO_MANY_RECIPIENTS_REPLY = "452 4.5.3 Error: too many recipients"


class Reject(NamedTuple):
    """What an smtpd reject line (after "reject: ") says; None for the parts it leaves out."""

    stage: str
    host: str | None
    ip: str | None
    reply: str
    sender: str | None
    rcpt: str | None
    helo: str | None


_REJECT_FIELDS = ("stage", "host", "ip", "reply", "sender", "rcpt", "helo")


def _split_by_pattern(text: str) -> tuple[str | None, str | None, bool]:
    match = REMOTE_REPLY.match(text)
    if match is None:
        return text, None, False
    return _remote(*match.group("reply", "verb", "command"))


def _remote(reply: str, verb: str, command: str | None) -> tuple[str, str | None, bool]:
    """What the remote host said, at which stage: refusing to talk is the CONNECT stage."""
    if verb != "said":
        return reply, "CONNECT", True
    return reply, COMMAND_STAGES.get(command or "", command), True


def smtpd_reject(text: str) -> Reject | None:
    """SMTPD_REJECT's reading of a reject, found without its backtracking where the reply ends at the first
    "; from=<" and no other tail could begin before it (tests/ingest/test_postfix_lines_fast_paths.py checks both
    give the same on random lines); every other line is read by SMTPD_REJECT itself."""
    head = _REJECT_HEAD.match(text)
    if head is None:
        return None
    start = head.end()
    cut = text.find("; from=<", start) if "\n" not in text else -1  # SMTPD_REJECT's "." stops at a line break
    if cut >= 0 and not any(text.find(other, start, cut) >= 0 for other in _OTHER_TAIL_STARTS):
        tail = _REJECT_TAIL.match(text, cut)
        if tail is not None:
            return Reject(head.group("stage"), head.group("host"), head.group("ip"), text[start:cut],
                          tail.group("sender"), tail.group("rcpt"), tail.group("helo"))
    match = SMTPD_REJECT.match(text)
    return None if match is None else Reject(*match.group(*_REJECT_FIELDS))


def envelope(text: str) -> tuple[str, str | None] | None:
    """(sender, recipient) named by an action's text after "ACTION: " (cleanup's content shape or smtpd's)."""
    content = CONTENT_REJECT.match(text)
    if content is not None and content.group("sender") is not None:
        return content.group("sender"), content.group("rcpt") or None
    reject = smtpd_reject(text)
    if reject is not None and reject.sender is not None:
        return reject.sender, reject.rcpt or None
    return None


def unknown_kind(daemon: str, body: str) -> str:
    """How an unrecognised queue-id line is counted: its daemon and its first word ('cleanup: QID: frob:')."""
    word = _FIRST_WORD.match(body)
    return f"{daemon}: QID: {word.group(0) if word else body[:20]}"


_FIRST_WORD = re.compile(r"[^\s:=]{1,40}[:=]?")


def reply_codes(reply: str | None) -> tuple[int | None, str | None]:
    """The SMTP code and enhanced status at the start of a reply ('550-5.7.26 ...' -> (550, '5.7.26'))."""
    if not reply:
        return None, None
    match = _CODES.match(reply)
    if match is None:  # pragma: no cover - the pattern matches the empty prefix
        return None, None
    code = match.group("code")
    return (int(code) if code else None), match.group("status")


def is_loopback(ip: str | None) -> bool:
    """127.0.0.0/8 or ::1: a client on this machine (a content filter re-injecting mail)."""
    return bool(ip) and (ip.startswith("127.") or ip == "::1")


def relay_host(relay: str | None) -> str | None:
    """'mx.b.example[192.0.2.1]:25' -> 'mx.b.example'; 'none'/'local' stay as they are."""
    if not relay:
        return None
    return relay.split("[", 1)[0] or None


def split_relay_reply(text: str | None) -> tuple[str | None, str | None, bool]:
    """A delivery line's parenthesised text -> (reply text, stage, whether the remote host said it)."""
    if not text:
        return None, None, False
    if "\n" in text:  # not from a log line; REMOTE_REPLY's "." stops at a line break
        return _split_by_pattern(text)
    head = _REMOTE_HEAD.match(text)
    if head is None:
        return text, None, False
    # As REMOTE_REPLY reads it: the reply ends at the first " (in reply to " if the text ends with " command)"
    # and a command name lies between the two.
    start, reply, command = head.end(), None, None
    if text.endswith(_COMMAND_END):
        cut = text.find(_IN_REPLY_TO, start)
        if cut >= 0 and cut + len(_IN_REPLY_TO) < len(text) - len(_COMMAND_END):
            reply, command = text[start:cut], text[cut + len(_IN_REPLY_TO):-len(_COMMAND_END)]
    return _remote(text[start:] if reply is None else reply, head.group("verb"), command)
