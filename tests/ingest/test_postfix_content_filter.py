"""The Postfix parser on what real sites add to an MX (lines as Postfix 3.7 wrote them in
tests/ingest/postfix_sites.py's run): an after-queue content filter's two queue ids, its refusals and discards,
SASL submission, and the domains the log shows to be ours. The whole run: tests/ingest/test_postfix_sites_e2e.py."""

from __future__ import annotations

import json

from bot.ingest.postfix import PostfixParser
from tests.ingest.test_ingest_postfix_lines import REF, parse

H = "Dec  7 21:34:2{} mx postfix/"
# An alias to one mailbox: the first queue id goes to the filter, which re-injects (the new id's smtpd line comes
# first) and answers with the new id; the store refuses the second queue id after DATA.
FILTERED = [
    H.format(1) + "smtpd[7146]: 0D2AC174079: client=unknown[127.0.0.38]",
    H.format(1) + "cleanup[7184]: 0D2AC174079: message-id=<1@pembridge-labs.example>",
    H.format(1) + "qmgr[7144]: 0D2AC174079: from=<orders@pembridge-labs.example>, size=408, nrcpt=1 (queue active)",
    H.format(2) + "smtpd[7147]: 0ECCE17407B: client=localhost[127.0.0.1]",
    H.format(2) + "cleanup[7184]: 0ECCE17407B: message-id=<1@pembridge-labs.example>",
    H.format(2) + "qmgr[7144]: 0ECCE17407B: from=<orders@pembridge-labs.example>, size=696, nrcpt=1 (queue active)",
    H.format(2) + "smtp[7156]: 0D2AC174079: to=<dana.moss@thornbury-dental.example>, "
    "orig_to=<billing@thornbury-dental.example>, relay=127.0.0.1[127.0.0.1]:32983, delay=6, delays=6/0/0/0.01, "
    "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:40053): 250 2.0.0 Ok: queued as 0ECCE17407B)",
    H.format(2) + "qmgr[7144]: 0D2AC174079: removed",
    H.format(3) + "lmtp[7242]: 0ECCE17407B: to=<dana.moss@thornbury-dental.example>, relay=127.0.0.1[127.0.0.1]:52971, "
    "delay=0.01, delays=0/0/0/0, dsn=5.2.2, status=bounced (host 127.0.0.1[127.0.0.1] said: 552 5.2.2 "
    "<dana.moss@thornbury-dental.example> Quota exceeded (mailbox for user is full) (in reply to end of DATA "
    "command))",
]
REFUSED = [
    H.format(5) + "smtpd[7150]: 001D9174064: client=unknown[127.0.0.31]",
    H.format(5) + "qmgr[7144]: 001D9174064: from=<promo@cheapwatch-deals.example>, size=433, nrcpt=1 (queue active)",
    H.format(6) + "smtp[7160]: 001D9174064: to=<bob.ingram@thornbury-dental.example>, "
    "relay=127.0.0.1[127.0.0.1]:32983, delay=6, delays=6/0/0/0, dsn=5.7.0, status=bounced (host "
    "127.0.0.1[127.0.0.1] said: 554 5.7.0 Reject, id=04102-03 - spam (in reply to end of DATA command))",
    H.format(6) + "smtpd[7146]: 05EE017406E: client=unknown[127.0.0.34]",
    H.format(6) + "qmgr[7144]: 05EE017406E: from=<winner@prize-notice.example>, size=432, nrcpt=1 (queue active)",
    H.format(7) + "smtp[7156]: 05EE017406E: to=<hal.owens@thornbury-dental.example>, relay=127.0.0.1[127.0.0.1]:32983, "
    "delay=6, delays=6/0/0/0, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id=04105-06 - spam)",
]


def test_a_filtered_message_has_one_outcome_with_the_first_queue_ids_client_and_recipient() -> None:
    handover, bounce = parse(FILTERED)
    assert (handover.disposition, handover.queue_id, handover.recipient) == ("requeued", "0D2AC174079",
                                                                             "billing@thornbury-dental.example")
    assert (bounce.disposition, bounce.queue_id, bounce.recipient) == ("bounced", "0ECCE17407B",
                                                                       "billing@thornbury-dental.example")
    assert (bounce.client_ip, bounce.reason, bounce.cause) == ("127.0.0.38", "mailboxfull", "recipient_unavailable")
    assert bounce.extra == {"delivered_to": "dana.moss@thornbury-dental.example"}


def test_the_link_survives_a_restart_between_the_two_queue_ids() -> None:
    first = PostfixParser(reference=REF)
    for line in FILTERED[:-1]:
        first.feed(line)
    second = PostfixParser(reference=REF)
    second.restore(first.snapshot())
    (bounce,) = second.feed(FILTERED[-1])
    assert (bounce.recipient, bounce.client_ip) == ("billing@thornbury-dental.example", "127.0.0.38")


def test_a_second_queue_id_delivered_before_the_hand_over_line_waits_for_it() -> None:
    """The filter answers right after the re-injection is queued: the new id's delivery (and removal) can come
    before the first id's "queued as" line. The Message-ID links them when the new id is queued (the client is
    known at once); its events wait for the hand-over line, which names the recipient the sender wrote."""
    removed = FILTERED[-1][:16] + "mx postfix/qmgr[7144]: 0ECCE17407B: removed"
    handover, bounce = parse([*FILTERED[:6], FILTERED[-1], removed, *FILTERED[6:8]])
    assert handover.disposition == "requeued"
    assert (bounce.disposition, bounce.client_ip, bounce.recipient) == ("bounced", "127.0.0.38",
                                                                        "billing@thornbury-dental.example")
    assert bounce.extra == {"delivered_to": "dana.moss@thornbury-dental.example"}


def test_held_events_are_made_when_the_hand_over_line_never_comes() -> None:
    """The log cut between the two (or a filter answering without "queued as"): the first id's removal, or the
    end of the log, makes them as they are."""
    (bounce,) = parse([*FILTERED[:6], FILTERED[-1]])  # parse() settles at the end
    assert (bounce.disposition, bounce.client_ip, bounce.recipient) == ("bounced", "127.0.0.38",
                                                                        "dana.moss@thornbury-dental.example")
    parser = PostfixParser(reference=REF)
    for line in [*FILTERED[:6], FILTERED[-1]]:
        parser.feed(line)
    restored = PostfixParser(reference=REF)
    restored.restore(json.loads(json.dumps(parser.snapshot())))  # the cursor keeps the held event
    (bounce,) = [e for e in restored.feed(FILTERED[7]) if e.disposition != "received"]
    assert bounce.recipient == "dana.moss@thornbury-dental.example"


def test_a_reply_naming_a_queue_id_not_in_the_log_is_a_delivery() -> None:
    """A smarthost's "queued as X": X is its queue, not ours."""
    lines = [FILTERED[0], FILTERED[2], FILTERED[6].replace("0ECCE17407B)", "4Rq8Zk00001)")]
    (delivered,) = parse(lines)
    assert delivered.disposition == "delivered"


def test_the_filters_refusals_are_our_gateways_and_its_discards_are_not_deliveries() -> None:
    events = parse(FILTERED + REFUSED)
    spam, discarded = events[-2:]
    assert (spam.disposition, spam.reason, spam.cause, spam.rejected_by) == ("bounced", "spamdetected",
                                                                             "gateway_policy", "gateway")
    assert (spam.direction, discarded.direction) == ("inbound", "inbound")  # the store takes mail for the domain
    assert (discarded.disposition, discarded.reason, discarded.cause) == ("deleted", "spamdetected", "gateway_policy")
    assert discarded.rejected_by is None  # pflogsumm counts its status=sent as delivered; so does the report


def test_a_filter_not_yet_seen_to_hand_mail_back_is_read_as_a_remote() -> None:
    (spam,) = parse(REFUSED[:3])
    assert (spam.reason, spam.cause) == ("spamdetected", "remote_policy")


def test_a_logged_in_clients_mail_is_outbound_and_its_domain_ours() -> None:
    lines = [
        H.format(1) + "smtpd[7148]: 0FDB217404A: client=unknown[127.0.0.40], sasl_method=PLAIN, "
        "sasl_username=alice.hart",
        H.format(1) + "qmgr[7144]: 0FDB217404A: from=<alice.hart@thornbury-dental.example>, size=417, nrcpt=1 "
        "(queue active)",
        H.format(2) + "smtp[7160]: 0FDB217404A: to=<ghost@thornbury-dental.example>, relay=mx.b.example[192.0.2.9]:25, "
        "delay=0.01, delays=0/0/0/0.01, dsn=5.1.1, status=bounced (host mx.b.example[192.0.2.9] said: 550 5.1.1 "
        "no such user (in reply to RCPT TO command))",
        H.format(3) + "smtpd[7148]: NOQUEUE: reject: RCPT from unknown[127.0.0.44]: 454 4.7.1 "
        "<l.adeyemi@saltmarsh-vets.example>: Relay access denied; from=<gina.shah@thornbury-dental.example> "
        "to=<l.adeyemi@saltmarsh-vets.example> proto=ESMTP helo=<client44.example>",
    ]
    bounced, refused = parse(lines)
    assert bounced.direction == "outbound"
    assert (refused.direction, refused.reason, refused.cause) == ("outbound", "norelaying", "gateway_policy")
