"""Which sender, signatures and sending IP an explained bounce gives the authentication checks (no DNS)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.auth import AuthChecker
from bot.bounce import Bounce, explain_bounces
from bot.bounce_auth import (
    MAX_SIGNATURES,
    public_looking,
    refused_for_authentication,
    reply_named_ip,
    request_for,
    sending_ip,
)
from bot.config import Settings
from tests.auth import bounces as b

OURS = "203.0.113.45"
HOME = "198.51.100.200"  # a user's submission from home: public, but not where the mail left from


def _bounce(text: str) -> Bounce:
    (bounce,) = explain_bounces(text.encode())
    return bounce


@pytest.mark.parametrize(("texts", "answering", "expected"), [
    ([f"host mx.remote.example[{b.REMOTE_MX}] said: 550 5.7.25 cannot find your hostname, [{b.SENT_FROM}]"], (),
     b.SENT_FROM),
    ([f"550 5.7.26 SPF [{b.SENDER}] with ip: [{b.SENT_FROM}] = did not pass"], (), b.SENT_FROM),
    ([f"554 5.7.1 rejected: IP address {b.SENT_FROM} is not authorized"], (), b.SENT_FROM),
    ([f"rejected by the server by mx.remote.example. [{b.REMOTE_MX}]."], (), None),  # the host's own address
    ([f"550 5.7.1 [{b.REMOTE_MX}] unauthenticated"], (b.REMOTE_MX,), None),  # a Remote-MTA's address
    (["550 5.7.25 cannot find your hostname, [10.1.2.3]"], (), None),  # a site-internal address
    (["550 5.7.26 unauthenticated email"], (), None),
])
def test_reply_named_ip(texts: list[str], answering: tuple[str, ...], expected: str | None) -> None:
    assert reply_named_ip(texts, answering) == expected


@pytest.mark.parametrize(("ip", "public"), [
    ("192.0.2.9", True), ("2001:db8::1", True), ("10.0.0.1", False), ("172.20.1.1", False),
    ("192.168.1.1", False), ("100.64.0.1", False), ("127.0.0.1", False), ("169.254.1.1", False),
    ("fd00::1", False), ("::1", False), ("not an ip", False)])
def test_public_looking(ip: str, public: bool) -> None:
    assert public_looking(ip) is public


def test_returned_headers_give_sender_envelope_and_signatures() -> None:
    returned = _bounce(b.postfix_dsn(b.GMAIL_DMARC, b.original(
        return_path=f"bounces@{b.ESP}", signatures=((b.SENDER, "s2024"), (b.ESP, "k1"))))).returned
    assert (returned.from_domain, returned.envelope_domain) == (b.SENDER, b.ESP)
    assert returned.signatures == ((b.SENDER, "s2024"), (b.ESP, "k1"))
    no_return_path = _bounce(b.postfix_dsn(b.GMAIL_DMARC, b.original())).returned
    assert no_return_path.envelope_domain == b.SENDER  # Postfix's X-Postfix-Sender


def test_a_relayed_reply_never_takes_the_ip_from_the_returned_received_fields() -> None:
    """Our relay reported the remote's reply: the top Received field names the user's client, not us."""
    received = (f"from laptop (home.isp.example [{HOME}]) by mx.{b.SENDER} (Postfix) with ESMTPSA id 1",)
    bounce = _bounce(b.postfix_dsn(b.GMAIL_DMARC, b.original(received=received)))
    texts = [r.text for r in refused_for_authentication(bounce.recipients)]
    assert bounce.returned.received_ips == (HOME,)
    assert sending_ip(bounce, texts, Settings()) == (None, None)
    assert sending_ip(bounce, texts, Settings(outbound_ips=(OURS,))) == (OURS, "outbound")


def test_a_received_field_naming_our_outbound_ip_is_used() -> None:
    received = (f"from mx.{b.SENDER} (mx.{b.SENDER} [{OURS}]) by gateway.partner.example with ESMTPS",
                f"from laptop ([{HOME}]) by mx.{b.SENDER} with ESMTPSA")
    bounce = _bounce(b.postfix_dsn(b.GMAIL_DMARC, b.original(received=received)))
    texts = [r.text for r in bounce.recipients]
    assert sending_ip(bounce, texts, Settings(outbound_ips=("192.0.2.1", OURS))) == (OURS, "received")


REMOTE_RETURNED = f"""From: postmaster@partner.example
To: anna@{b.SENDER}
Subject: Undeliverable: Quarterly figures
Content-Type: multipart/mixed; boundary="M1"

--M1
Content-Type: text/plain

Delivery has failed to these recipients:

dana@partner.example
550 5.7.509 Access denied, sending domain {b.SENDER} does not pass DMARC verification

--M1
Content-Type: message/rfc822

Received: by store.partner.example with SMTP id 7; Mon, 7 Dec 2026 10:00:01 +0000
Received: from relay.{b.SENDER} (relay.{b.SENDER} [{OURS}]) by mx.partner.example with ESMTPS
Received: from laptop ([10.1.2.3]) by relay.{b.SENDER} with ESMTPSA
From: Anna <anna@{b.SENDER}>
To: dana@partner.example
Subject: Quarterly figures

Figures attached.
--M1--
"""


def test_the_refusing_side_returning_the_message_names_the_ip_in_its_received_field() -> None:
    bounce = _bounce(REMOTE_RETURNED)
    refused = refused_for_authentication(bounce.recipients)
    assert refused and not bounce.remote_mtas
    texts = [r.text for r in refused]
    assert sending_ip(bounce, texts, Settings()) == (OURS, "received")
    relayed = dataclasses.replace(bounce, remote_mtas=("mx.partner.example",))
    assert sending_ip(relayed, texts, Settings()) == (None, None)


def test_only_refusals_for_authentication_count() -> None:
    userunknown = _bounce(b.postfix_dsn("550 5.1.1 <dana@gmail.example>: User unknown", b.original(),
                                        status="5.1.1", stage="RCPT TO"))
    assert refused_for_authentication(userunknown.recipients) == []


def test_the_request_for_a_bounce() -> None:
    """Header From for DMARC, the envelope domain for SPF, at most MAX_SIGNATURES signatures."""
    signatures = tuple((b.SENDER, f"s{n}") for n in range(MAX_SIGNATURES + 2))
    bounce = _bounce(b.postfix_dsn(b.GMAIL_UNAUTHENTICATED, b.original(return_path=f"bounces@{b.ESP}",
                                                                        signatures=signatures)))
    checker = AuthChecker(nameservers=["127.0.0.1"], dkim_selectors=[f"{b.SENDER}:configured"])
    request = request_for(bounce, refused_for_authentication(bounce.recipients), Settings(), checker)
    assert request is not None
    assert (request.domain, request.header_from, request.spf_domain) == (b.SENDER, True, b.ESP)
    assert (request.ip, request.ip_source) == (b.SENT_FROM, "reply")
    assert request.signatures == signatures[:MAX_SIGNATURES]
    assert request.dkim_pairs()[0] == (b.SENDER, "configured") and len(request.dkim_pairs()) == MAX_SIGNATURES + 1
