"""What a detector finds for one recipient, before classification."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STAGE = re.compile(
    r"(?:in reply to|after|while sending|during|>>>|did not like our|most progress was|smtp:|\[)\s*(?:the\s+)?"
    r"(rcpt to|rcpt_to|rcpt|mail from|mail|end of data|data|helo|ehlo|connect|banner|greeting|starttls"
    r"|initial connection)\b",
    re.IGNORECASE,
)
_STAGES = {"rcpt to": "RCPT", "rcpt_to": "RCPT", "rcpt": "RCPT", "mail from": "MAIL", "mail": "MAIL",
           "end of data": "DATA", "data": "DATA", "helo": "HELO", "ehlo": "HELO", "connect": "CONNECT",
           "banner": "CONNECT",
           "greeting": "CONNECT", "starttls": "STARTTLS", "initial connection": "CONNECT"}
_HOST = re.compile(r"(?:\bhost|remote-mta:\s*dns;|\bby|\bfrom)\s+([a-z0-9-]+(?:\.[a-z0-9-]+)+\.[a-z]{2,})\b",
                   re.IGNORECASE)


@dataclass
class Found:
    """One failed (or delivered) recipient as a detector read it from the message."""

    address: str
    status: str | None = None        # enhanced status code, e.g. 5.1.1
    smtp_code: int | None = None     # reply code, e.g. 550
    text: str = ""                   # diagnostic text (the remote's reply, or the bounce's explanation)
    action: str | None = None        # DSN Action: failed, delayed, delivered, ...
    host: str | None = None          # the remote host that answered, when named
    stage: str | None = None         # the SMTP stage the reply came at (RCPT, DATA, ...), when told
    reason: str | None = None        # set by detectors that know it outright (feedback, vacation)
    diagnostic_type: str = ""        # DSN Diagnostic-Code type: "smtp", "x-unix" (a local delivery program)
    only_report: bool = False        # no words of its own: `text` is the bounce's general explanation


def stage_in(text: str) -> str | None:
    """The SMTP stage a bounce text says the reply came at ("in reply to RCPT TO command")."""
    match = _STAGE.search(text)
    return _STAGES.get(match.group(1).lower()) if match else None


def host_in(text: str) -> str | None:
    """The remote host a bounce text names, if any."""
    match = _HOST.search(text)
    return match.group(1).lower() if match else None
