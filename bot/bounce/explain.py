"""Explain one bounce message: each recipient with its status, reply code, text, reason and cause.

Detectors are tried in a fixed order, first hit wins: ARF feedback report, Amazon SES JSON notification,
RFC 3464 DSN part, DSN fields
written as plain text, a plain-text bounce, an auto-reply. Every recipient is classified with the same
classifier the log ingestion uses (bot.reasons.classify), as mail that a remote server refused.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.message import Message
from functools import cached_property
from itertools import pairwise

from bot.bounce import arf, autoreply, dsn, plaintext, ses
from bot.bounce.found import Found, host_in, stage_in
from bot.bounce.message import BadMessage, header, headers, load, report_text
from bot.bounce.returned import Returned, read_returned
from bot.reasons import classify
from bot.reasons.causes import cause_for
from bot.reasons.normalize import clean_status, reply_code_in, status_in
from bot.vocab import Cause

_log = logging.getLogger(__name__)
_MAX_TEXT = 1000
_SPACE = re.compile(r"\s+")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status|fail|failure|notification|report|problem|has failed)|failure notice|"
    r"returned mail|mail delivery|non-?deliver|could not be delivered|not delivered|rejected|bounce|"
    r"delivery error|delivery failed|failed delivery|mail failure|mail system error|"
    r"nicht zustellbar|unzustellbar|non remis|fehlgeschlagen",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"mailer-daemon|post_?master|mail delivery|mail administrator|mailer|daemon", re.IGNORECASE)
_BOUNCE_WORDS = re.compile(r"could not be delivered|undeliverable|delivery (?:has )?failed|permanent error|"
                           r"failed permanently|not be delivered|was not delivered|delivery to the following",
                           re.IGNORECASE)


_FIRST_OF_MANY = re.compile(r"^[245]\d\d-")
#: Replies that name the refused mailbox ("550 <a@b>: User unknown"), are RFC 5321's RCPT answer, or
#: Postfix smtpd's RCPT-stage wording: a real lookup of the recipient, not a filter speaking.
_NAMED_UNKNOWN = re.compile(r">:? user unknown|requested action not taken|recipient address rejected",
                            re.IGNORECASE)


class NotABounce(ValueError):
    """A mail message that is no bounce, feedback report or auto-reply."""


@dataclass(frozen=True)
class RecipientResult:
    """One recipient of a bounce, classified."""

    address: str
    status: str | None
    smtp_code: int | None
    text: str
    reason: str
    cause: str
    rule: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"address": self.address, "status": self.status, "smtp_code": self.smtp_code,
                "text": self.text, "reason": self.reason, "cause": self.cause}


@dataclass
class Bounce:
    """One bounce message: its recipients, the remote hosts its report names as having answered (DSN
    Remote-MTA), and (read on first use: only the authentication checks need it) the returned original."""

    recipients: list[RecipientResult]
    message: Message
    remote_mtas: tuple[str, ...] = ()

    @cached_property
    def returned(self) -> Returned:
        try:
            return read_returned(self.message)
        except (AttributeError, TypeError, ValueError, LookupError, UnicodeError, IndexError):
            # a damaged returned part: the recipients stand, only what the original would tell is missing
            _log.debug("cannot read the returned original", exc_info=True)
            return Returned()


#: The separator line of an mbox file: "From sender Thu Apr 29 23:34:45 2015".
_MBOX_FROM = re.compile(rb"^From \S+\s+\w{3} \w{3}\s+\d{1,2} \d\d:\d\d:\d\d \d{4}\s*$", re.MULTILINE)


def explain_bytes(data: bytes) -> list[RecipientResult]:
    """Recipients of a bounce given as bytes (a file, a Slack attachment); an mbox with several messages
    gives the recipients of all of them, in order. BadMessage/NotABounce if there are none."""
    return [r for b in explain_bounces(data) for r in b.recipients]


def explain_bounces(data: bytes) -> list[Bounce]:
    """Each bounce message in the bytes (one, or several in an mbox), with its recipients; BadMessage or
    NotABounce if none has recipients."""
    normalized = data.replace(b"\r\n", b"\n")
    starts = [m.start() for m in _MBOX_FROM.finditer(normalized)]
    if len(starts) < 2 and not (starts and starts[0] > 0):
        return [explain_bounce(load(data))]
    bounds = ([0] if starts[0] > 0 else []) + starts + [len(normalized)]
    bounces: list[Bounce] = []
    problems: list[ValueError] = []
    for begin, end in pairwise(bounds):
        try:
            bounces.append(explain_bounce(load(normalized[begin:end])))
        except (BadMessage, NotABounce) as exc:
            problems.append(exc)
    if not bounces:
        raise problems[0]
    return bounces


def explain_text(text: str) -> list[RecipientResult]:
    """Recipients of a bounce pasted as text."""
    return explain_bytes(text.encode("utf-8", errors="replace"))


def explain_message(message: Message) -> list[RecipientResult]:
    return explain_bounce(message).recipients


def explain_bounce(message: Message) -> Bounce:
    try:
        found = find_recipients(message)
    except (AttributeError, TypeError, ValueError, LookupError, UnicodeError, IndexError) as exc:
        # The email package hands back odd objects for badly damaged messages; that is the message's fault,
        # and it is told as such (the details are logged at debug level for whoever improves the reader).
        _log.debug("cannot read a damaged message", exc_info=True)
        raise BadMessage(f"damaged message that cannot be read ({type(exc).__name__})") from exc
    if not found:
        raise NotABounce("no bounced recipient found (not a delivery status notification, "
                         "bounce, feedback report or auto-reply)")
    remote_mtas = tuple(dict.fromkeys(item.host for item in found if item.host))
    return Bounce([_classified(item) for item in found], message, remote_mtas)


def looks_like_bounce(message: Message, report: str) -> bool:
    """The marks every kind of bounce carries at least one of."""
    if header(message, "x-failed-recipients") or message.get_content_type() == "multipart/report":
        return True
    if _DAEMON.search(" ".join(headers(message, "from"))):
        return True
    if _BOUNCE_SUBJECT.search(header(message, "subject")):
        return True
    return bool(_BOUNCE_WORDS.search(report))


def find_recipients(message: Message) -> list[Found]:
    """The detectors, in order; first one that finds recipients wins."""
    found = arf.detect(message) or ses.detect(message)
    if found:
        return found
    report = report_text(message)
    found = dsn.detect(message) or dsn.from_fields(report)
    if found:
        return _fill_from_report(message, report, found)
    if looks_like_bounce(message, report):
        found = plaintext.detect(message, report)
        if found:
            for item in found:
                item.stage = stage_in(item.text) or (stage_in(report) if len(found) == 1 else None)
            return found
    found = autoreply.detect(message)
    if found:
        return found
    return []


def _fill_from_report(message: Message, report: str, found: list[Found]) -> list[Found]:
    """DSN recipients without a Diagnostic-Code take their words from the human-readable part; the SMTP
    stage comes from the diagnostic, else the recipient's part of the transcript, else the whole report."""
    blocks = {item.address: item.text for item in plaintext.detect(message, report)}
    for item in found:
        block = blocks.get(item.address, "")
        if not item.text:
            item.text = block or report.strip()
        elif _FIRST_OF_MANY.match(item.text) and block and block not in item.text:
            # Sendmail keeps only the first line of a multi-line reply ("552-5.7.0 ...") in Diagnostic-Code;
            # the whole reply is in the transcript.
            item.text = f"{item.text}\n{block}"
        item.stage = stage_in(item.text) or stage_in(block) or (stage_in(report) if len(found) == 1 else None)
    return found


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()[:_MAX_TEXT]


def _classified(item: Found) -> RecipientResult:
    text = _one_line(item.text)
    status = clean_status(item.status)
    in_text = status_in(text)
    if in_text and not in_text.endswith(".0.0") and not (status or "").startswith("2."):
        status = in_text  # the remote's own words beat the reporting MTA's translation of them
    code = reply_code_in(text)
    if item.reason == "feedback":
        return RecipientResult(item.address, status, code, text, "feedback", str(Cause.REMOTE_POLICY), "arf")
    if item.reason == "vacation":
        return RecipientResult(item.address, status, code, text, "vacation", str(Cause.DELIVERED), "rfc3834")
    action = (item.action or "").lower()
    disposition = None
    if action in ("delivered", "relayed", "expanded") or (status or "").startswith("2."):
        disposition = "delivered"
    elif action in ("delayed", "expired"):
        disposition = "expired"
    host = item.host or host_in(text)
    if item.address.endswith("@googlegroups.com"):
        host = "googlegroups.com"
    result = classify(smtp_code=code, enhanced_status=status, text=text, stage=item.stage or stage_in(text),
                      side="remote", disposition=disposition, host=host)
    reason, rule = _what_the_bounce_adds(item, result.reason, result.rule, text, status, code, action, disposition)
    cause = result.cause
    if reason != result.reason:  # an override: the cause follows the reason it ends with
        cause = str(cause_for(reason, side="remote", temporary=_temporary(status, code), reputation=False))
    return RecipientResult(item.address, status, code, text, reason, cause, rule)


def _what_the_bounce_adds(item: Found, reason: str, rule: str, text: str, status: str | None, code: int | None,
                          action: str, disposition: str | None) -> tuple[str, str]:
    """What a bounce tells beyond the reply itself: who produced the text, whether the sender gave up."""
    timed_out = reason == "networkerror" and "timed out" in text.lower()
    if item.diagnostic_type == "x-unix" and reason not in _STORAGE and not (status or "").startswith(("5.3.", "4.3.")):
        # the text is a local delivery program's output (procmail, a pipe, an exit code): the program failed,
        # unless the reporting MTA itself called it a mail-system (x.3.x) or storage problem
        return "mailererror", f"x-unix({rule})"
    if action == "delayed" and rule.startswith(("status-hint", "fallback", "weak-phrase")):
        # a delay notice whose words say nothing more: the message is ageing in the queue
        return "expired", f"delayed({rule})"
    if disposition != "delivered" and (_temporary(status, code) or (timed_out and not status and not code)) and (
            (reason in _GAVE_UP and rule.startswith("fallback")) or timed_out
            or (reason == "networkerror" and status == "4.4.1" and action != "delayed")):
        # a bounce reporting a temporary failure (no answer, a time-out, no answer from the host -- 4.4.1
        # in a final report: Postfix's "delivery temporarily suspended: connect to ...: Connection refused",
        # qmail's "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)") means
        # the sender's MTA stopped retrying: the message expired in its queue
        return "expired", f"gave-up({rule})"
    if reason == "onhold" and item.only_report and code is None and status is None:
        # no reply, no code, only the bounce's general words: nothing to decide on
        return "undefined", "fallback:no-reply"
    if (rule == "phrase:userunknown" and code is not None and not _NAMED_UNKNOWN.search(text)
            and not (status or "").startswith(("5.1.", "4.1."))
            and (item.stage or stage_in(text)) not in ("RCPT", "MAIL")):
        # an SMTP reply saying "user unknown" without a 5.1.x code and not in answer to RCPT TO came after the
        # message was accepted: a recipient-side filter speaking (mobile carriers' domain filters answer so)
        return "filtered", f"not-at-rcpt({rule})"
    return reason, rule


#: What a local delivery program can still report as such: the mailbox or the disk is full.
_STORAGE = frozenset({"mailboxfull", "systemfull", "mesgtoobig", "suspend", "delivered"})

#: Reasons of a temporary failure that, in a final bounce, mean the queue lifetime ran out.
_GAVE_UP = frozenset({"onhold", "undefined"})


def _temporary(status: str | None, code: int | None) -> bool:
    return (status or "").startswith("4.") or (code is not None and 400 <= code < 500)


__all__ = ["BadMessage", "Bounce", "NotABounce", "RecipientResult", "explain_bounces", "explain_bytes",
           "explain_message", "explain_text"]
