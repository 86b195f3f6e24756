"""Bounce messages built for the authentication tests (written here, not copied from a corpus), and the DNS
world they are checked against: a sender whose SPF does not cover the IP the mail left from, a DKIM key
published for one selector and missing for another, DMARC p=reject, an ESP envelope domain, reverse DNS
with and without forward confirmation.
"""

from __future__ import annotations

from tests.auth.nsd import RSA_2048, SOA, txt

SENDER = "fabrikam.example"
ESP = "esp-mailer.example"
SENT_FROM = "192.0.2.77"      # no PTR; not in the sender's SPF
PTR_NO_FCRDNS = "192.0.2.78"  # PTR dsl-78.isp.example, which resolves elsewhere
REMOTE_MX = "198.51.100.25"   # the refusing host's own address: never the sending IP

ZONES: dict[str, str | None] = {
    SENDER: SOA + f"""
@ {txt('v=spf1 ip4:198.51.100.0/24 -all')}
_dmarc {txt(f'v=DMARC1; p=reject; rua=mailto:dmarc@{SENDER}')}
s2024._domainkey {txt('v=DKIM1; k=rsa; p=' + RSA_2048)}
""",
    ESP: SOA + f"@ {txt('v=spf1 ip4:192.0.2.0/24 -all')}\n",
    "isp.example": SOA + "dsl-78 A 192.0.2.99\n",
    "2.0.192.in-addr.arpa": SOA + "78 PTR dsl-78.isp.example.\n",
}

#: Gmail's 5.7.26 refusals: the SPF/DKIM results wording (names the client IP), and the DMARC wording.
GMAIL_UNAUTHENTICATED = (
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated. 550-5.7.26 Gmail requires "
    "all senders to authenticate with either SPF or DKIM. 550-5.7.26 Authentication results: 550-5.7.26 "
    f"DKIM = did not pass 550-5.7.26 SPF [{SENDER}] with ip: [{SENT_FROM}] = did not pass 550 5.7.26 gsmtp")
GMAIL_DMARC = (
    f"550-5.7.26 Unauthenticated email from {SENDER} is not accepted due to 550-5.7.26 domain's DMARC policy. "
    "550 5.7.26 https://support.google.com/mail/?p=DmarcRejection - gsmtp")


def signature(domain: str, selector: str) -> str:
    return (f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\n s={selector}; "
            "h=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n b=dGVzdA==")


def original(*, sender: str = f"anna@{SENDER}", return_path: str | None = None,
             signatures: tuple[tuple[str, str], ...] = (), received: tuple[str, ...] = ()) -> str:
    """The returned message's headers."""
    head = [f"Return-Path: <{return_path}>"] if return_path else []
    head += [f"Received: {r}" for r in received]
    head += [signature(d, s) for d, s in signatures]
    head += [f"From: Anna <{sender}>", "To: <dana@gmail.example>", "Subject: Quarterly figures",
             "Message-ID: <q4.2026@fabrikam.example>"]
    return "\n".join(head) + "\n"


def postfix_dsn(reply: str, returned: str, *, recipient: str = "dana@gmail.example", status: str = "5.7.26",
                remote: str = "gmail-smtp-in.l.google.com", stage: str = "end of DATA") -> str:
    """A DSN as Postfix writes it when the remote host refused: the text part, the delivery-status part, and
    the returned headers (text/rfc822-headers)."""
    return f"""From: MAILER-DAEMON@mx.{SENDER} (Mail Delivery System)
To: anna@{SENDER}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R1"

--R1
Content-Type: text/plain

This is the mail system at host mx.{SENDER}.

I'm sorry to have to inform you that your message could not be delivered.

<{recipient}>: host {remote}[{REMOTE_MX}] said: {reply} (in reply to {stage} command)

--R1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.{SENDER}
X-Postfix-Sender: rfc822; anna@{SENDER}

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Remote-MTA: dns; {remote}
Diagnostic-Code: smtp; {reply}

--R1
Content-Type: text/rfc822-headers

{returned}
--R1--
"""
