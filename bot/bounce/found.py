"""What a detector finds for one recipient, before classification."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STAGE = re.compile(
    (r"(?:in reply to|after|while sending|during|>>>|did not like our|most progress was|smtp:|\[)\s*(?:the\s+)?"
     r"(rcpt to|rcpt_to|rcpt|mail from|mail|end of data|data|helo|ehlo|connect|banner|greeting|starttls"
     r"|initial connection)\b").replace(" ", r"\s+"),  # a wrapped line may break anywhere between the words
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


#: Other ways bounces name the stage: Gmail's "(state N)" after the remote's reply (14 answers RCPT TO;
#: 15, 17, 18 come after DATA; 13 at EHLO; 6 at MAIL FROM), qmail-remote's "failed after I sent the message"
#: (the reply to the end of DATA), "does not like recipient", "Connected to x but sender was rejected" ...,
#: Gmail's "(SENT_HELO)" (the remote hung up after our greeting).
_GMAIL_STATES = {"6": "MAIL", "13": "HELO", "14": "RCPT", "15": "DATA", "17": "DATA", "18": "DATA"}
_GMAIL_STATE = re.compile(r"\(state (\d{1,2})\)")
_OTHER_STAGES = ((re.compile(r"failed after i sent the message", re.IGNORECASE), "DATA"),
                 (re.compile(r"\(sent_helo\)", re.IGNORECASE), "HELO"),
                 # qmail-remote.c's other fixed sentences, one per stage
                 (re.compile(r"does not like recipient", re.IGNORECASE), "RCPT"),
                 (re.compile(r"failed on data command", re.IGNORECASE), "DATA"),
                 (re.compile(r"but sender was rejected", re.IGNORECASE), "MAIL"),
                 (re.compile(r"but my name was rejected", re.IGNORECASE), "HELO"),
                 (re.compile(r"but greeting failed", re.IGNORECASE), "CONNECT"))


def stage_in(text: str) -> str | None:
    """The SMTP stage a bounce text says the reply came at ("in reply to RCPT TO command")."""
    match = _STAGE.search(text)
    if match:
        return _STAGES.get(" ".join(match.group(1).lower().split()))
    state = _GMAIL_STATE.search(text)
    if state and state.group(1) in _GMAIL_STATES:
        return _GMAIL_STATES[state.group(1)]
    for pattern, stage in _OTHER_STAGES:
        if pattern.search(text):
            return stage
    return None


def host_in(text: str) -> str | None:
    """The remote host a bounce text names, if any."""
    match = _HOST.search(text)
    return match.group(1).lower() if match else None
