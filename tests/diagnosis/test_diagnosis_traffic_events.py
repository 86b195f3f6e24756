"""The traffic report's facts (`received`: a message entered the queue; `warned`: a rule only warned) are not
outcomes: the diagnosis counts and judges the outcomes alone."""

from __future__ import annotations

from bot.store import Store
from tests.diagnosis.test_diagnosis import load, run
from tests.diagnosis.test_diagnosis_expired import postfix_events

LINES = [
    "Nov 20 09:00:00 mx postfix/smtpd[10]: connect from a.partner.example[192.0.2.1]",
    "Nov 20 09:00:00 mx postfix/smtpd[10]: 4A1B2C3D4E: client=a.partner.example[192.0.2.1]",
    "Nov 20 09:00:00 mx postfix/cleanup[11]: 4A1B2C3D4E: message-id=<m1@partner.example>",
    "Nov 20 09:00:00 mx postfix/qmgr[9]: 4A1B2C3D4E: from=<alice@partner.example>, size=900, nrcpt=1 (queue active)",
    "Nov 20 09:00:01 mx postfix/local[12]: 4A1B2C3D4E: to=<bob@ours.example>, relay=local, delay=1, "
    "delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)",
    "Nov 20 09:00:01 mx postfix/qmgr[9]: 4A1B2C3D4E: removed",
    "Nov 20 09:00:02 mx postfix/smtpd[10]: NOQUEUE: reject_warning: RCPT from a.partner.example[192.0.2.1]: 450 "
    "4.7.1 <x@ours.example>: Recipient address rejected: try later; from=<alice@partner.example> "
    "to=<x@ours.example> proto=ESMTP helo=<a.partner.example>",
    "Nov 20 09:00:03 mx postfix/smtpd[10]: NOQUEUE: reject: RCPT from a.partner.example[192.0.2.1]: 550 5.1.1 "
    "<nobody@ours.example>: Recipient address rejected: User unknown in local recipient table; "
    "from=<alice@partner.example> to=<nobody@ours.example> proto=ESMTP helo=<a.partner.example>",
]


def test_received_and_warned_events_are_not_counted_as_traffic_of_the_diagnosis(store: Store) -> None:
    events = postfix_events(LINES)
    assert {e["disposition"] for e in events} >= {"received", "warned", "delivered", "rejected"}
    load(store, events)
    d = run(store, "alice@partner.example")
    assert (d.summary["accepted"], d.summary["delivered"], d.summary["rejected"]) == (1, 1, 1)
    assert "received" not in d.summary and "warned" not in d.summary
    assert [f.reason for f in d.findings] == ["userunknown"]
