"""The classifier on the replies of ../shared/corpus/postfix/dev-expected.json (quoted from dev-maillog.log)."""

from __future__ import annotations

import json

import pytest

from bot.reasons import classify, dnsbl_zone_in
from tests.support import shared_path

# (case, smtp code, enhanced status, reply text, stage, side, disposition, reason, cause, zone)
CASES = [
    ("a", 552, "5.3.4", "Message size exceeds fixed limit", "MAIL", "gateway", "rejected",
     "mesgtoobig", "gateway_policy", None),
    ("b", 452, "4.5.3", "Error: too many recipients", "RCPT", "gateway", "rejected",
     "toomanyconn", "gateway_policy", None),
    ("c", 550, "5.1.1", "<j.smithers@northwind-traders.example>: Recipient address rejected: User unknown in local "
     "recipient table", "RCPT", "gateway", "rejected", "userunknown", "invalid_recipient", None),
    ("d", 554, "5.7.1", "<billing@invoice-alerts.example>: Sender address rejected: Access denied", "RCPT", "gateway",
     "rejected", "rejected", "gateway_policy", None),
    ("e", 554, "5.7.1", "<hello@bulkmailer-pro.example>: Sender address rejected: Mail from this domain is not "
     "accepted here", "RCPT", "gateway", "rejected", "rejected", "gateway_policy", None),
    ("f", 554, "5.7.1", "<mail.oakridge-supplies.example[127.0.1.26]>: Client host rejected: Access denied", "RCPT",
     "gateway", "rejected", "blocked", "gateway_policy", None),
    ("g", 554, "5.7.1", "Service unavailable; Client host [127.0.1.27] blocked using zen.spamhaus.org; "
     "https://www.spamhaus.org/query/ip/127.0.1.27", "RCPT", "gateway", "rejected", "blocked", "gateway_reputation",
     "zen.spamhaus.org"),
    ("h", 554, "5.7.1", "Service unavailable; Client host [127.0.1.28] blocked using bl.spamcop.net; Blocked - see "
     "https://www.spamcop.net/bl.shtml?127.0.1.28", "RCPT", "gateway", "rejected", "blocked", "gateway_reputation",
     "bl.spamcop.net"),
    ("i", 504, "5.5.2", "<DESKTOP-7QK2M1>: Helo command rejected: need fully-qualified hostname", "RCPT", "gateway",
     "rejected", "blocked", "gateway_policy", None),
    ("j", 250, "2.0.0", "delivered to mailbox", None, "gateway", "delivered", "delivered", "delivered", None),
    ("k", 550, "5.1.1", "<marketing@northwind-traders.example>: Recipient address rejected: User unknown in local "
     "recipient table", "RCPT", "gateway", "rejected", "userunknown", "invalid_recipient", None),
    ("l", 550, "5.1.1", "<k.bauer@hanse-logistik.example>: Recipient address rejected: User unknown in virtual "
     "mailbox table", "RCPT", "remote", "bounced", "userunknown", "invalid_recipient", None),
    ("m", 552, "5.2.2", "<h.larsen@nordic-fjord.example> Quota exceeded (mailbox for user is full)", "DATA",
     "remote", "bounced", "mailboxfull", "recipient_unavailable", None),
    ("n", 550, "5.7.26", "550-5.7.26 Unauthenticated email from northwind-traders.example is not 550-5.7.26 "
     "accepted due to domain's DMARC policy. Please contact the 550-5.7.26 administrator of "
     "northwind-traders.example domain if this was a 550-5.7.26 legitimate mail. To learn about the DMARC "
     "initiative, go to 550 5.7.26  https://support.google.com/mail/?p=DmarcRejection lvqof6ujrr.7 - gsmtp",
     "DATA", "remote", "bounced", "authfailure", "remote_policy", None),
    ("o", 550, "5.7.606", "Access denied, banned sending IP [203.0.113.45]. To request removal from this list please "
     "visit https://sender.office.com/ and follow the directions.", "RCPT", "remote", "bounced", "blocked",
     "remote_blacklist", None),
    ("p", 554, "5.7.1", "Service unavailable; Client host [203.0.113.45] blocked using b.barracudacentral.org; "
     "http://www.barracudanetworks.com/reputation/?pr=1&ip=203.0.113.45", "RCPT", "remote", "bounced", "blocked",
     "remote_blacklist", "b.barracudacentral.org"),
    ("q", 550, "5.7.1", "Message rejected as spam by Content Filtering.", "DATA", "remote", "bounced",
     "spamdetected", "remote_policy", None),
    ("r", 552, "5.3.4", "Message size exceeds fixed maximum message size", "DATA", "remote", "bounced",
     "mesgtoobig", "remote_policy", None),
    ("s", 451, "4.0.0", "Temporary local problem - please try later", "RCPT", "remote", "deferred",
     "systemerror", "transient", None),
    ("t", 250, "2.0.0", "Ok: queued as 9F1E2160055", "DATA", "remote", "delivered", "delivered", "delivered", None),
]


@pytest.mark.parametrize(("case", "code", "status", "text", "stage", "side", "disposition", "reason", "cause",
                          "zone"), CASES, ids=[c[0] for c in CASES])
def test_dev_case_reply(case, code, status, text, stage, side, disposition, reason, cause, zone):
    result = classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, side=side,
                      disposition=disposition)
    assert (result.reason, result.cause) == (reason, cause), result.rule
    assert dnsbl_zone_in(text) == zone


def test_table_covers_every_dev_case():
    """The table above follows the answer key: same cases, same expected reason, cause and zone."""
    expected = json.loads(shared_path("corpus", "postfix", "dev-expected.json").read_text())
    by_case = {c[0]: c for c in CASES}
    assert set(by_case) == {e["case"] for e in expected}
    for entry in expected:
        row = by_case[entry["case"]]
        assert (row[7], row[8], row[9]) == (entry["expected_reason"], entry["expected_cause"], entry["dnsbl_zone"])
