"""The precedence of evidence, and the classes of misreading that motivated it (issue 14).

Each sample is a motivating bounce from ../shared/corpus/bounces-public cut to the lines that matter (the
address and host parts replaced by documentation ones). The rule each case checks reads mail in general:
none keys on a file, a recipient or a domain.
"""

from __future__ import annotations

import pytest

from bot.bounce import explain_bytes
from bot.reasons import classify


def _reason(text: str, status: str | None = None, code: int | None = None, stage: str | None = None,
            host: str | None = None) -> str:
    return classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, host=host).reason


# Class 1: a general status code must not override specific wording.
CODE_VS_WORDING = [
    ("554 5.7.1 Message cannot be accepted, spam rejection", "5.7.1", "spamdetected"),
    ("550 5.7.1 Rejected - bulk email", "5.7.1", "spamdetected"),
    ("550-5.7.1 The message was rejected due to classification as Bulk mail.", "5.7.1", "spamdetected"),
    ("550 5.7.1 Our system has detected that this message is likely unsolicited mail.", "5.7.1", "spamdetected"),
    ("554 5.7.1 Your email appears similar to spam we have received before.", "5.7.1", "spamdetected"),
    ("554 5.7.1 Mail (13049-38149) appears to be unsolicited - Score (59) over MessageScoringUpperLimit (50)",
     "5.7.1", "spamdetected"),
    ("553 sorry, badrcptto(user mail-box not found) (#5.7.1)", "5.7.1", "userunknown"),
    ("550 5.7.1 No mailbox found", "5.7.1", "userunknown"),
    ("554 5.7.1 <someone@example.net>: Recipient address rejected: Nonexistent user", "5.7.1", "userunknown"),
    ("550 sorry, no mailbox here by that name. (#5.7.17)", "5.7.17", "userunknown"),
    ("554 5.7.1 Message Rejected Class=size limit=15728640 Subclass=reject size=18571048", "5.7.1", "mesgtoobig"),
    ("550 RCPT TO:<someone@example.net> max message size exceeded", "5.1.1", "mesgtoobig"),
    ("553-you are trying to use me [server-9.example.com] as a relay, but I have not been configured to let "
     "553-you [192.0.2.1, mail.example.org] do this. (#5.7.1)", "5.7.1", "norelaying"),
    ("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "5.7.1", "norelaying"),
    ("550 5.7.1 You're using a mass mailer, therefore you're bounced.", "5.7.1", "policyviolation"),
    ("553 5.7.3 CONTENT REJECT:192.0.2.1.2011101001.XXYIvtHf:dspam check:4:http://mail.example.com/policy",
     "5.7.3", "spamdetected"),
    ("maildir delivery failed: Sorry, the user's maildir has overdrawn his diskspace quota", "5.2.3",
     "mailboxfull"),
]


@pytest.mark.parametrize(("text", "status", "reason"), CODE_VS_WORDING)
def test_wording_beats_a_general_code(text: str, status: str, reason: str) -> None:
    assert _reason(text, status, 550) == reason


# Class 3: wording that names a reason must not fall back to onhold.
NAMED_NOT_ONHOLD = [
    ("550 User [someone@example.net] does not exist", "userunknown"),
    ("554 Rcpt <someone@example.net> does not exist", "userunknown"),
    ("550 ** No mail box available for this user **", "userunknown"),
    ("550 BAD_RECIPIENT - see http://www.example.ac.uk/undelivered.php?r=BAD_RECIPIENT", "userunknown"),
    ('unrouteable mail domain "example.net"', "networkerror"),
    ("This message has not been collected after 30 days and was returned", "suspend"),
    ("551 <someone@example.net> is a deactivated mailbox", "suspend"),
    ("552 Account(s) <someone@example.net> does not have enough space", "mailboxfull"),
    ("550 <someone@example.net> Benutzer hat zuviele Mails auf dem Server. / User has too many messages on the "
     "server.", "mailboxfull"),
    ("Recipient user name info (info@example.net ) not unique. Several matches found in Domino Directory.",
     "systemerror"),
    ("550 Your server requires confirmation. Visit http://www.example.com/Whitelist.aspx?IP=192.0.2.1 to "
     "confirm this mail server.", "blocked"),
    ("TEMP_FAILURE: Could not initiate SMTP conversation with any hosts: [mx.example.net (1): Connection "
     "dropped]", "blocked"),
    ("Technical details of permanent failure: You have exceeded the the allowable number of posts without "
     "solving a captcha.", "policyviolation"),
]


@pytest.mark.parametrize(("text", "reason"), NAMED_NOT_ONHOLD)
def test_named_reasons_are_not_onhold(text: str, reason: str) -> None:
    assert _reason(text) == reason


# Class 5: phrases that had the wrong home.
@pytest.mark.parametrize(("text", "reason"), [
    ("552 Quota violation for someone@example.net", "mailboxfull"),
    ("554 SpamBouncer identified SPAM, message permanently rejected (#5.3.0)", "spamdetected"),
    ("451 SPAM not accepted", "spamdetected"),
])
def test_phrases_in_their_right_home(text: str, reason: str) -> None:
    assert _reason(text, code=int(text[:3])) == reason


# Class 6: wording families of other MTAs and providers (round cls-general). Each line is a reply the family
# sends; "(not in the corpora)" marks wording written from the MTA's source or documentation, not from a sample.
WORDING_FAMILIES = [
    # cPanel's Exim catch-all for a domain it cannot route to (its "blacklisted" is not a block list)
    ("The mail server could not deliver mail to someone@example.net.  The account or domain may not exist, they "
     "may be blacklisted, or missing the proper dns entries.", None, None, None, "hostunknown"),
    # Exim's own messages (not in the corpora: exim src/transports/smtp.c, routers/dnslookup.c, parser.c)
    ("all host address lookups failed permanently", None, None, None, "hostunknown"),
    ("all relevant MX records point to non-existent hosts", None, None, None, "hostunknown"),
    ("Message 1Xabcd-0001Ab-Cd has been frozen by the system filter.", None, None, None, "expired"),
    ("retry time not reached for any host after a long failure period", None, None, None, "expired"),
    # T-Online's refusal of the sending IP
    ("554 IP=192.0.2.254 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de "
     "to clarify.) (BL)", None, 554, None, "blocked"),
    # (not in the corpora) the same sentence with the dynamic-address tag
    ("554 IP=192.0.2.7 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to "
     "clarify.) (DYN)", None, 554, None, "blocked"),
    # a provider counting sending IPs it cannot verify by reverse DNS, at MAIL FROM
    ("450 service permits 2 unverifyable sending IPs - example.com is not 203.0.113.222", None, 450, "MAIL",
     "requireptr"),
    # (not in the corpora) mail.ru's reverse-DNS refusal
    ("550 we do not accept mail from hosts with dynamic IP or generic DNS PTR-records", None, 550, None,
     "requireptr"),
    ("SMTP error from remote mail server after end of data: 500 Line limit exceeded", None, 500, "DATA",
     "mesgtoobig"),
    # (not in the corpora) Exchange Online, Orange
    ("552 5.3.4 Exceeded maximum inbound message size", "5.3.4", 552, None, "mesgtoobig"),
    ("552 5.3.4 Taille limite du message atteinte", None, 552, None, "mesgtoobig"),
    # Postfix local's mailbox file limit is the mailbox's, not the message's (not in the corpora)
    ("cannot update mailbox /var/mail/someone for user someone. error writing message: mail file size exceeds "
     "the maximum size allowed for mail delivery", None, None, None, "mailboxfull"),
    # Amazon SES' sending quota is the sender's, not a mailbox's (not in the corpora)
    ("454 Throttling failure: Daily message quota exceeded.", None, 454, None, "toomanyconn"),
    # FreeUK: "not an active address at this host" names no such user; other "not an active mailbox" wording
    # stays suspend
    ("550-someone@example.net is not an active address at this host (invalid FreeUK 550 username)", None, 550,
     None, "userunknown"),
    ("550 someone@example.net is not an active mailbox", None, 550, None, "suspend"),
    # Postfix "550 Protocol violation" after DATA (pipelining, bare LF ...)
    ("host r2.example.org[198.51.100.24] said: 550 Protocol violation (in reply to DATA command)", None, 550,
     "DATA", "policyviolation"),
    ("451 Could not load DRD for domain (example.com) rcpt (someone@example.com)", None, 451, None,
     "systemerror"),
    # Outlook.com's IP refusals, whatever the stage (SC-004 came at MAIL FROM)
    (">>> MAIL FROM:<sender@example.org> <<< 550 SC-004 (COL0-MC1-F1) Unfortunately, messages from 192.0.2.22 "
     "weren't sent. We recommend that you contact your Internet service provider. The problem is that too many "
     "unwanted messages have been sent from the following IP address above.", None, 550, "MAIL", "blocked"),
    # (not in the corpora) Outlook.com DY-001
    ("550 DY-001 (SNT004-MC1F25) Unfortunately, messages from 192.0.2.1 weren't sent. Please contact your "
     "Internet service provider. We do not accept email from dynamic IP's.", None, 550, None, "blocked"),
    # list servers and sender checks (not in the corpora: Mailman, MDaemon)
    ("550 Post by non-member to a members-only list", None, 550, None, "rejected"),
    ("550 Backscatter protection detected an invalid or expired email address", None, 550, None, "rejected"),
    ("550 'someone@example.net' is not a registered gateway user", None, 550, None, "rejected"),
    # unknown users of other MTAs (not in the corpora: vpopmail, qmail badrcptto, Netscape, Notes, Mail.ru)
    ("vdeliver: Invalid or unknown virtual user 'someone'", None, None, None, "userunknown"),
    ("553 sorry, your envelope recipient is in my badrcptto list (#5.7.1)", "5.7.1", 553, "RCPT", "userunknown"),
    ("550 5.1.1 No mailbox by that name is currently available", None, 550, "RCPT", "userunknown"),
    ("Failed: some destination addresses were unknown", None, None, None, "userunknown"),
    ("550 Message was not accepted -- this spectator does not exist", None, 550, "RCPT", "userunknown"),
    # QQ Mail / NetEase (not in the corpora)
    ("550 Mailbox not found or access denied: invalid/inactive user", None, 550, "RCPT", "suspend"),
    ("550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726", None, 550,
     "DATA", "spamdetected"),
    # Postfix, Exchange network and DNS failures (not in the corpora)
    ("mail forwarding loop for someone@example.net", None, None, None, "networkerror"),
    ("DNS records for the destination computer could not be found", None, None, None, "networkerror"),
    # a temporary "unable to route" code with no words is a failed lookup (not in the corpora)
    ("451 4.4.4 temporary failure", "4.4.4", 451, None, "networkerror"),
    # providers' published wording (not in the corpora: Yahoo, Mimecast, Exchange Online, iCloud, GoDaddy,
    # Yandex, NetEase error code pages)
    ("554 delivery error: dd someone@yahoo.com is no longer valid. [-20]", None, 554, None, "suspend"),
    ("421 Max message per connection reached, closing transmission channel", None, 421, None, "toomanyconn"),
    ("550 SPF Sender Invalid - envelope rejected", None, 550, None, "authfailure"),
    ("451 Internal resources are temporarily unavailable", None, 451, None, "badreputation"),
    ("550 Envelope blocked - User Entry", None, 550, None, "rejected"),
    ("553 This route requires encryption (TLS)", None, 553, None, "securityerror"),
    ("550 5.7.507 Access denied, rejected by recipient", "5.7.507", 550, None, "blocked"),
    ("554 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds", "5.6.11", 554, None,
     "contenterror"),
    ("550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Sender was not "
     "authenticated for group", "5.7.133", 550, None, "rejected"),
    ("421 4.7.1 Messages to someone@icloud.com deferred due to excessive volume. Try again later", "4.7.1", 421,
     None, "speeding"),
    ("554 This IP has been temporarily blocked for attempting to mail too many invalid recipients. IB112", None,
     554, None, "blocked"),
    ("554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc", "5.7.1", 554, None,
     "spamdetected"),
    ("552 Requested mail action aborted: exceeded mailsize limit", None, 552, None, "mesgtoobig"),
    # words naming the sender come before the recipient or generic words they contain (not in the corpora)
    ("550 5.7.1 Sender domain does not exist", "5.7.1", 550, None, "rejected"),
    ("550 5.7.1 Sender rejected by SPF policy", "5.7.1", 550, None, "authfailure"),
    # guards: the new families must not take other wording (not in the corpora)
    ("550 Your account has been frozen", None, 550, "RCPT", "suspend"),       # not Exim's frozen message
    ("550 5.2.1 Mailbox unavailable", "5.2.1", 550, None, "suspend"),         # the mailbox-status code says more
    ("550 5.7.1 SPF authentication failure", "5.7.1", 550, None, "authfailure"),  # not SMTP AUTH
    ("535 5.7.8 Authentication failure", "5.7.8", 535, None, "securityerror"),
    ("550 5.7.1 Service unavailable; client [192.0.2.1] blacklisted", "5.7.1", 550, None, "blocked"),
]


@pytest.mark.parametrize(("text", "status", "code", "stage", "reason"), WORDING_FAMILIES)
def test_wording_families_of_other_mtas(text: str, status: str | None, code: int | None, stage: str | None,
                                         reason: str) -> None:
    assert _reason(text, status, code, stage) == reason


# Class 7: what a bounce adds to the reply (parsing).
_EXPANDED = b"""From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>
To: <sender@example.org>
Subject: Returned mail: see transcript for details

   ----- The following addresses had permanent fatal errors -----
someone@example.com
    (reason: 553 Sender Policy Framework (SPF) fail)
    (expanded from: <Someone@example.net>)

   ----- Transcript of session follows -----
... while talking to mx.example.com.:
>>> DATA
<<< 553 Sender Policy Framework (SPF) fail
"""

_FINAL_441 = b"""From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="F"

--F
Content-Type: text/plain

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<someone@example.net>: delivery temporarily suspended: connect to
    mx.example.net[192.0.2.34]: Connection refused
--F
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; someone@example.net
Action: failed
Status: 4.4.1
Diagnostic-Code: X-Postfix; delivery temporarily suspended: connect to
    mx.example.net[192.0.2.34]: Connection refused
--F--
"""

_MAIL_FROM = _FINAL_441.replace(b"""<someone@example.net>: delivery temporarily suspended: connect to
    mx.example.net[192.0.2.34]: Connection refused""", b"""<someone@example.net>: host mx.example.net[192.0.2.34] said:
    550 5.7.1 Access denied (in reply to MAIL FROM command)""").replace(b"""Status: 4.4.1
Diagnostic-Code: X-Postfix; delivery temporarily suspended: connect to
    mx.example.net[192.0.2.34]: Connection refused""", b"""Status: 5.7.1
Diagnostic-Code: smtp; 550 5.7.1 Access denied""")


_QMAIL_RCPT = b"""From: MAILER-DAEMON@mail.example.org
To: sender@example.org
Subject: failure notice

Hi. This is the qmail-send program at mail.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<someone@example.jp>:
192.0.2.153 does not like recipient.
Remote host said: 550 5.2.1 <someone@example.jp>... User Unknown
Giving up on 192.0.2.153.
"""


def test_qmail_remote_names_the_stage() -> None:
    """qmail-remote's "does not like recipient" is the answer to RCPT TO: user-unknown words there are a
    missing mailbox, whatever the 5.2.x code (the same words after DATA would be a filter)."""
    assert [r.reason for r in explain_bytes(_QMAIL_RCPT)] == ["userunknown"]
    after_data = _QMAIL_RCPT.replace(b"does not like recipient.", b"failed after I sent the message.")
    assert [r.reason for r in explain_bytes(after_data)] == ["filtered"]
    sender = _QMAIL_RCPT.replace(b"192.0.2.153 does not like recipient.\nRemote host said: 550 5.2.1 "
                                 b"<someone@example.jp>... User Unknown",
                                 b"Connected to 192.0.2.153 but sender was rejected.\nRemote host said: 553 "
                                 b"5.7.1 <sender@example.org>... Access denied")
    assert [r.reason for r in explain_bytes(sender)] == ["rejected"]


def test_what_the_bounce_adds_to_the_reply() -> None:
    # Sendmail names the alias target; the sender wrote the address it was expanded from
    assert [(r.address, r.reason) for r in explain_bytes(_EXPANDED)] == [("someone@example.net", "authfailure")]
    # a final report (Action: failed) with 4.4.1: the queue stopped retrying the host that never answered
    assert [r.reason for r in explain_bytes(_FINAL_441)] == ["expired"]
    # the same report as a delay notice keeps the cause
    delayed = _FINAL_441.replace(b"Action: failed", b"Action: delayed")
    assert [r.reason for r in explain_bytes(delayed)] == ["networkerror"]
    # a general code in answer to MAIL FROM (the stage is in the human-readable part only) judges the sender
    assert [r.reason for r in explain_bytes(_MAIL_FROM)] == ["rejected"]


_OPENSMTPD = b"""From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: Delivery status notification: error

Hi!

This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.

An error has occurred while attempting to deliver a message for
the following list of recipients:

someone@example.net: 550 5.1.1 <someone@example.net>... User Unknown

Below is a copy of the original message:

Received: from [127.0.0.1] (localhost [127.0.0.1]);
        by localhost (OpenSMTPD) with ESMTP id 1234abcd;
Subject: our spam filter blocked your newsletter

Your mailbox is full of offers.
"""

_NOTES = b"""From: Postmaster <postmaster@notes.example.co.jp>
To: sender@example.org
Subject: Undeliverable Message

------- Failure Reasons  --------

User someone (someone@notes.example.co.jp) not listed in public Name & Address Book
someone@notes.example.co.jp

------- Returned Message --------

Your mailbox is full of offers.
"""


# Smail 3 / Deutsche Telekom (T-Online) bounces (not in the corpora: written from smail's notify.c layout)
_SMAIL = b"""From: Mail Delivery System <Mailer-Daemon@t-online.de>
To: sender@example.org
Subject: mail failed, returning to sender

|------------------------- Failed addresses follow: ---------------------|
 <someone@t-online.de>
   552 5.2.2 <someone@t-online.de> Quota exceeded (mailbox for user is full)

|------------------------- Message text follows: ------------------------|
Subject: your invoice

Our archive says: message size exceeds fixed limit.
"""


def test_the_returned_original_is_cut_at_more_markers() -> None:
    # Smail 3's "|---- Message text follows: ----|" (the original's words would say mesgtoobig)
    assert [(r.address, r.reason) for r in explain_bytes(_SMAIL)] == [("someone@t-online.de", "mailboxfull")]
    # OpenSMTPD's "Below is a copy of the original message:" (the original's words would say mailboxfull)
    assert [(r.address, r.reason) for r in explain_bytes(_OPENSMTPD)] == [("someone@example.net", "userunknown")]
    # Lotus Notes: the reason stands above the address, the original after "Returned Message"
    assert [(r.address, r.reason) for r in explain_bytes(_NOTES)] == [("someone@notes.example.co.jp",
                                                                       "userunknown")]


# The order of evidence, one level at a time.
def test_precedence_wording_then_provider_code_then_status_then_generic_words_then_stage() -> None:
    microsoft = "mx.contoso.mail.protection.outlook.com"
    # 1 > 2: the reply's words beat what Microsoft means by 5.1.10
    assert classify(smtp_code=550, enhanced_status="5.1.10", text="Recipient address has null MX",
                    host=microsoft).rule == "phrase:notaccept"
    # 2 > 3: Microsoft's 5.1.10 is "recipient not found", RFC 7505's null MX elsewhere
    assert classify(smtp_code=550, enhanced_status="5.1.10", text="550 5.1.10 Undeliverable",
                    host=microsoft).reason == "userunknown"
    assert classify(smtp_code=550, enhanced_status="5.1.10", text="550 5.1.10 Undeliverable",
                    host=None).reason == "notaccept"
    # 3 > 4: a decisive code beats generic words ("blocked" is a generic word)
    assert classify(smtp_code=550, enhanced_status="5.2.2", text="550 5.2.2 blocked", host=None).reason == \
        "mailboxfull"
    # 4 > 5: generic words beat the stage ("spam" at RCPT is still spam)
    assert classify(smtp_code=550, enhanced_status=None, text="550 spam", stage="RCPT").reason == "spamdetected"
    # 5: the stage alone: refused at HELO is the client being blocked
    assert classify(smtp_code=550, enhanced_status=None, text="550 go away", stage="HELO").reason == "blocked"


def test_a_code_refines_wording_of_the_same_family() -> None:
    """Words say "too large", 5.2.3 says whose limit: the recipient's (exceedlimit); words say "could not
    connect", x.4.7 says the queue gave up (expired)."""
    assert _reason("552 5.2.3 Message size exceeds fixed maximum message size (10485760)", "5.2.3", 552) == \
        "exceedlimit"
    assert _reason("Unable to deliver, due to being unable to connect successfully to the destination mail "
                   "server.", "4.4.7") == "expired"


# Class 2: only the diagnostic part is read, never a footer.
_FOOTER_DSN = b"""From: postmaster@example.org
To: sender@example.com
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is an automatically generated Delivery Status Notification.
Delivery to the following recipients failed.
       someone@example.net

________________________________________________________________________
**** This email has come from the internet and has been scanned for all viruses and
potentially offensive content by Messagelabs on behalf of Example ****
--B
Content-Type: message/delivery-status

Reporting-MTA: dns;mail.example.org

Final-Recipient: rfc822;someone@example.net
Action: failed
Status: 5.1.1
--B--
"""

_FOOTER_EXIM = b"""From: Mail Delivery System <Mailer-Daemon@mail.example.org>
To: sender@example.com
Subject: Warning: message 1Gdrvl-0006Gp-PU delayed 24 hours

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mail.example.org.

The address to which the message has not yet been delivered is:

  someone@example.net
    Delay reason: SMTP error from remote mail server after DATA:
    host mx.example.net [192.0.2.7]: 451 SPAM not accepted

No action is required on your part.

__________ Informacion de NOD32, revision 1.1856 (20061106) __________

Este mensaje ha sido analizado con  NOD32 antivirus system
http://www.nod32.com
"""


def test_an_antivirus_footer_is_not_the_diagnosis() -> None:
    assert [r.reason for r in explain_bytes(_FOOTER_DSN)] == ["userunknown"]
    assert [r.reason for r in explain_bytes(_FOOTER_EXIM)] == ["spamdetected"]
    assert "virus" not in explain_bytes(_FOOTER_EXIM)[0].text.lower()


def test_a_scanners_finding_is_the_diagnosis_not_a_footer() -> None:
    finding = _FOOTER_EXIM.replace(b"451 SPAM not accepted", b"550 message refused").replace(
        b"Este mensaje ha sido analizado con  NOD32 antivirus system",
        b"Message checked by ClamAV antivirus: virus found (Eicar-Test-Signature)")
    assert [r.reason for r in explain_bytes(finding)] == ["virusdetected"]


# Class 4: formats that were not read.
_JMRP = b"""From: staff@hotmail.com
Subject: complaint about message from 192.0.2.1
To: fbl-abuse@example.com
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="J"

--J
Content-Type: message/rfc822
Content-Disposition: inline

X-HmXmrOriginalRecipient: complainer@hotmail.com
From: "Our List" <list@example.com>
To: "complainer@hotmail.com" <complainer@hotmail.com>
Subject: News

Hello
--J--
"""

_INTERNAL_ROUTE = b"""From: Internet Mail Delivery <postmaster@example.net>
To: sender@example.com
Subject: Delivery Notification: Delivery has failed
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="I"

--I
Content-Type: text/plain

Your message cannot be delivered to the following recipients:
  Recipient address: @store1.example.net:someone@ims_daemon
  Original address: someone@example.net
  Diagnostic code: smtp;522 5.2.0 Delivery failed: Over quota
--I
Content-Type: message/delivery-status

Reporting-MTA: dns;mta1.example.net (lmtpcs-daemon)

Original-recipient: rfc822;someone@example.net
Final-recipient: rfc822;@store1.example.net:someone@ims_daemon
Action: failed
Status: 5.2.0 (LMTP transmission failure has occurred)
Diagnostic-code: smtp;522 5.2.0 Delivery failed: Over quota
--I--
"""

_UNFOLDED = b"""Return-Path: <>
Received-SPF: pass (mx: domain of bounce.example.com designates
192.0.2.198 as permitted sender) client-ip=192.0.2.198;
Date: Thu, 07 May 2009 11:02:07 -0400
From: Mail Delivery System <mailer-daemon@example.com>
To: sender@example.org
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.
A message that you sent could not be delivered to one or more of
its recipients. The following addresses failed:

<someone@example.net>
SMTP error from remote server after RCPT command:
host mx1.example.net[192.0.2.88]:
550 Requested action not taken: mailbox unavailable
"""


def _nested(inner: bytes) -> bytes:
    """A bounce of a message that was itself a bounce: the inner report is about another delivery."""
    return b"""From: MAILER-DAEMON@relay.example.org
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="O"

--O
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.
--O
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org

Final-Recipient: rfc822; outer@example.org
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full
--O
Content-Type: message/rfc822

""" + inner + b"\n--O--\n"


def test_formats_that_were_not_read() -> None:
    jmrp = explain_bytes(_JMRP)
    assert [(r.address, r.reason) for r in jmrp] == [("complainer@hotmail.com", "feedback")]
    routed = explain_bytes(_INTERNAL_ROUTE)
    assert [(r.address, r.reason) for r in routed] == [("someone@example.net", "mailboxfull")]
    unfolded = explain_bytes(_UNFOLDED)
    assert [(r.address, r.reason) for r in unfolded] == [("someone@example.net", "userunknown")]


def test_the_outermost_report_is_read() -> None:
    results = explain_bytes(_nested(_INTERNAL_ROUTE))
    assert [(r.address, r.reason) for r in results] == [("outer@example.org", "mailboxfull")]
    feedback_returned = explain_bytes(_nested(_JMRP.replace(b"X-HmXmrOriginalRecipient", b"X-Other")))
    assert [r.reason for r in feedback_returned] == ["mailboxfull"]


# Where bouncebot disagrees with Sisimai 5.1 on purpose (each is a label in bounces-public's expected.tsv).
DISAGREEMENTS = [
    # Sisimai: filtered (its rule: user-unknown words without a known RCPT stage are a filter). IIS answers
    # every unknown recipient so at RCPT; RFC 5321 names this text for a mailbox that does not exist.
    ("550 Requested action not taken: mailbox unavailable", "5.0.0", 550, None, "userunknown"),
    # Sisimai: filtered (same rule). "Recipient address rejected" is Postfix smtpd's answer to RCPT TO.
    ("550 <someone@example.net>: Recipient address rejected: User unknown in local recipient table", None, 550,
     None, "userunknown"),
    # Sisimai: virusdetected (its reading of Mimecast's "security policies"). MCSpamSignature is Mimecast's spam
    # signature.
    ("554 email rejected due to security policies - MCSpamSignature.sa.5.6", "5.0.0", 554, None, "spamdetected"),
    # Sisimai: onhold (5.9.8 is no RFC 3463 code). The one word the reply has is the verdict.
    ("5.9.8 Spam", "5.9.8", None, None, "spamdetected"),
    # Sisimai: blocked. "<ip> is not allowed to send mail from <domain>" is the SPF failure wording (libspf2).
    ("550 192.0.2.68 is not allowed to send mail from email.example.com", None, 550, "RCPT", "authfailure"),
    # Sisimai: undefined. "account is full (quota exceeded)" says the mailbox is full.
    ("Failed to deliver to '<someone@example.net>' LOCAL module(account someone) reports: account is full "
     "(quota exceeded)", None, None, None, "mailboxfull"),
    # Sisimai: mesgtoobig for RecipSizeLimit, exceedlimit for SendSizeLimit.Org, both 5.2.3: the code decides
    # whose limit, for both alike.
    ("550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient", "5.2.3", 550, None,
     "exceedlimit"),
    # Sisimai: filtered (Yahoo refuses after DATA, and its rule makes user-unknown words there a filter). Yahoo
    # answers so exactly when the account does not exist; the runbook is the same as for any unknown user.
    ("554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - "
     "mta1.mail.example.yahoo.com", None, 554, "DATA", "userunknown"),
    ("This user doesn't have a example.co.jp account (someone@example.co.jp) [-9]", None, None, None,
     "userunknown"),
    # Sisimai: rejected. Yahoo's TSS04 defers for "unexpected volume or user complaints": the IP's reputation.
    ("421 4.7.0 [TSS04] Messages from 192.0.2.192 temporarily deferred due to unexpected volume or user "
     "complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes", "4.7.0", 421, None,
     "badreputation"),
    # Sisimai: networkerror for qmail, expired for the same text from another qmail-based MTA. The queue gave up.
    ("Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to try again; this message "
     "has been in the queue too long.", "4.4.1", None, None, "expired"),
    # Sisimai: toomanyconn ("we have already made numerous attempts" is in its toomanyconn table).
    ("has failed due to a full mailbox. We have already made numerous attempts to deliver this message over the "
     "last few days.", None, None, None, "mailboxfull"),
    # Sisimai: blocked (refused at the connection). The words say what the refusal is about.
    ("554 5.7.1 [C14] Missing reverse DNS for 203.0.113.2", "5.7.1", 554, "CONNECT", "requireptr"),
    # Sisimai: rejected. Exchange Online's directory-based edge blocking answers 5.4.1 for a recipient it does
    # not have (bot.reasons.providers "microsoft-dbeb").
    ("550 5.4.1 All recipient addresses rejected : Access denied [x.prod.protection.outlook.com]", "5.4.1", 550,
     "DATA", "userunknown"),
    # Sisimai: blocked. Gmail says the IP is "temporarily rate limited" (bot.reasons.providers "gmail-rate").
    ("421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.",
     "4.7.28", 421, None, "speeding"),
]


@pytest.mark.parametrize(("text", "status", "code", "stage", "reason"), DISAGREEMENTS)
def test_where_bouncebot_disagrees_with_sisimai_on_purpose(text: str, status: str | None, code: int | None,
                                                          stage: str | None, reason: str) -> None:
    assert _reason(text, status, code, stage) == reason


def test_only_a_fields_lost_folding_is_refolded() -> None:
    """A few unindented lines between header fields are a field's continuation; a longer run is a body that
    starts without its blank line, and stays a body."""
    from bot.bounce.message import _refold

    lost = b"From: a@example.org\nReceived-SPF: pass (mx: domain of\n192.0.2.1 as permitted sender)\nSubject: s\n\nx"
    assert _refold(lost) == lost.replace(b"\n192.0.2.1", b"\n 192.0.2.1")
    body = b"From: a@example.org\nSubject: s\n" + b"".join(b"body line %d\n" % i for i in range(6)) + \
        b"Final-Recipient: rfc822; someone@example.net\n\nrest"
    assert _refold(body) == body
