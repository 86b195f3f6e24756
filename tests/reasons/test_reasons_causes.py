"""The same reason is a different cause depending on who rejected: our gateway (causes 1-3) or a remote (3-5)."""

from __future__ import annotations

import pytest

from bot.reasons import classify
from bot.reasons.causes import cause_for
from bot.vocab import REASONS, Cause

# (code, status, text, stage, gateway cause, remote cause)
SPLIT = [
    (554, "5.7.1", "Client host [203.0.113.9] blocked using zen.spamhaus.org", "RCPT",
     "gateway_reputation", "remote_blacklist"),
    (554, "5.7.1", "Client host rejected: Access denied", "RCPT", "gateway_policy", "remote_blacklist"),
    (504, "5.5.2", "<pc01>: Helo command rejected: need fully-qualified hostname", "RCPT",
     "gateway_policy", "remote_blacklist"),
    (554, "5.7.1", "<a@spam.example>: Sender address rejected: Access denied", "RCPT", "gateway_policy",
     "remote_policy"),
    (552, "5.3.4", "Message size exceeds fixed limit", "MAIL", "gateway_policy", "remote_policy"),
    (550, "5.1.1", "Recipient address rejected: User unknown in local recipient table", "RCPT",
     "invalid_recipient", "invalid_recipient"),
    (550, "5.1.2", "Host or domain name not found", "RCPT", "invalid_recipient", "invalid_recipient"),
    (552, "5.2.2", "Quota exceeded", "DATA", "recipient_unavailable", "recipient_unavailable"),
    (550, "5.2.1", "The email account that you tried to reach is disabled. gsmtp", "RCPT",
     "recipient_unavailable", "recipient_unavailable"),
    (550, "5.7.26", "Unauthenticated email is not accepted due to domain's DMARC policy", "DATA",
     "gateway_policy", "remote_policy"),
    (550, "5.7.1", "Message rejected as spam", "DATA", "gateway_policy", "remote_policy"),
    (550, "5.7.1", "Very low reputation of the sending IP address", "RCPT", "gateway_reputation",
     "remote_blacklist"),
    (451, "4.3.0", "Temporary local problem - please try later", "RCPT", "transient", "transient"),
    (421, "4.4.2", "lost connection with mx.example.org while receiving the initial server greeting", None,
     "transient", "transient"),
    (450, "4.7.1", "Client host rejected: cannot find your hostname", "RCPT", "gateway_policy", "transient"),
    (452, "4.5.3", "Error: too many recipients", "RCPT", "gateway_policy", "transient"),
    # reject_unknown_sender_domain answers 450 by default: our gateway's rule all the same, its retries meet it again
    (450, "4.1.8", "<a@nowhere.example>: Sender address rejected: Domain not found", "RCPT", "gateway_policy",
     "transient"),
    # defer_unauth_destination, Postfix's default relay restriction, answers 454
    (454, "4.7.1", "<a@elsewhere.example>: Relay access denied", "RCPT", "gateway_policy", "transient"),
    (421, "4.7.28", "unusual rate of unsolicited mail", "RCPT", "transient", "transient"),
    # refused for good without TLS: a TLS policy, not a transient failure (TLS offered and failing is: below)
    (530, "5.7.0", "Must issue a STARTTLS command first", "MAIL", "gateway_policy", "remote_policy"),
    (None, "4.7.4", "TLS is required, but was not offered by host mx.b.example[192.0.2.1]", None, "transient",
     "transient"),
    # x.3.2 "system not accepting network messages" is notaccept, but for now only: nothing about the address
    (421, "4.3.2", "Service shutting down and closing transmission channel", None, "transient", "transient"),
]


@pytest.mark.parametrize(("code", "status", "text", "stage", "gateway", "remote"), SPLIT,
                         ids=[s[2][:40] for s in SPLIT])
def test_cause_depends_on_who_rejected(code, status, text, stage, gateway, remote):
    ours = classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, side="gateway")
    theirs = classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, side="remote")
    assert ours.reason == theirs.reason
    assert (ours.cause, theirs.cause) == (gateway, remote)


def test_delivered_and_deferred():
    assert classify(smtp_code=250, enhanced_status="2.0.0", text="Ok", disposition="delivered").cause == "delivered"
    deferred = classify(smtp_code=None, enhanced_status=None, text="connect to x: Connection timed out",
                        disposition="deferred")
    assert (deferred.reason, deferred.cause) == ("networkerror", "transient")


@pytest.mark.parametrize("reason", REASONS)
@pytest.mark.parametrize("side", ["gateway", "remote"])
@pytest.mark.parametrize("temporary", [False, True])
def test_every_reason_maps_to_a_known_cause(reason, side, temporary):
    cause = cause_for(reason, side=side, temporary=temporary, reputation=False)
    assert cause in set(Cause)
    if side == "gateway":
        assert cause not in (Cause.REMOTE_BLACKLIST, Cause.REMOTE_POLICY)
    else:
        assert cause not in (Cause.GATEWAY_POLICY, Cause.GATEWAY_REPUTATION)
