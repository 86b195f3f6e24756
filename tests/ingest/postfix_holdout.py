"""A second real-Postfix scenario, built like ../shared/corpus/postfix (an MX for one domain that delivers to local
mailboxes and relays its users' mail to scripted remote servers), with cases the dev set does not have. Used by
tests/ingest/test_postfix_holdout_e2e.py; run as a script (as root) to print the log a run writes.

Postfix runs in a network namespace of its own (ip netns): there rbldnsd answers every DNS question (the remote
domains' MX and A records, an NXDOMAIN for domains that do not exist, Barracuda's and Spamhaus DBL's lists, an
NXDOMAIN for client PTRs), /etc/netns/NAME/hosts names the inbound clients, and the "remote" MX hosts are aiosmtpd
servers on 127.0.2.x:25 answering with real receivers' wording. The mail is sent from inside the namespace by
this module run as `python3 -m tests.ingest.postfix_holdout drive PORT LOG`.

CASES is the answer key: each case its own sender, its expected reason (Sisimai's names), cause (the runbook's)
and DNSBL zone, decided from what the mail situation is.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tests.ingest.real_postfix import PostfixRun, map_path, master_running, run_postfix, wait_for_log
from tests.support import ROOT, require_binary, require_root, unavailable

DOMAIN = "larkspur-foods.example"
OUR_IP = "203.0.113.45"  # the address the remotes quote as ours; it appears only inside their replies
NETNS = "bbholdout"
USERS = ("amelia.ross", "ben.chen", "carla.diaz", "oliver.grant", "priya.nair", "ethan.cole", "noah.fischer",
         "sophie.martin", "daniel.weiss", "ava.thompson", "liam.baker", "mia.kowalski", "lucas.brandt",
         "zoe.harper", "finn.obrien", "nora.lindgren", "hugo.ferrand", "ella.vance", "omar.haddad", "ivy.chen",
         "jonas.berg", "tara.singh")


@dataclass(frozen=True)
class Case:
    case: str
    sender: str
    recipients: tuple[str, ...]
    expected_reason: str
    expected_cause: str
    dnsbl_zone: str | None
    note: str
    client_ip: str | None = None  # inbound cases: the connecting client (outbound ones come from groupware)
    helo: str | None = None
    subject: str = "Quarterly figures"
    size: int = 0  # bytes of body padding

    @property
    def direction(self) -> str:
        return "outbound" if self.client_ip is None else "inbound"


def _o(user: str) -> str:
    return f"{user}@{DOMAIN}"


GMAIL_AUTH = (
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n"
    "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\r\n550-5.7.26\r\n"
    "550-5.7.26  Authentication results:\r\n550-5.7.26  DKIM = did not pass\r\n"
    f"550-5.7.26  SPF [{DOMAIN}] with ip: [{OUR_IP}] = did not pass\r\n550-5.7.26\r\n"
    "550-5.7.26  For instructions on setting up authentication, go to\r\n"
    "550 5.7.26  https://support.google.com/mail/answer/81126#authentication 41be03b00d2f7-b8c3 - gsmtp")
GMAIL_PTR = (
    f"550-5.7.25 [{OUR_IP}] The IP address sending this message does not have a\r\n"
    "550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not\r\n"
    "550-5.7.25 point to the sending IP. As a policy, Gmail does not accept messages\r\n"
    "550-5.7.25 from IPs with missing PTR records. For more information, go to\r\n"
    "550-5.7.25  https://support.google.com/mail/answer/81126#ip-practices\r\n"
    "550 5.7.25 d9443c01a7336-29a8 - gsmtp")
GMAIL_RATE = (
    "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n"
    "450-4.2.1 prevents additional messages from being delivered. Please resend your\r\n"
    "450-4.2.1 message at a later time. If the user is able to receive mail at that\r\n"
    "450-4.2.1 time, your message will be delivered. For more information, go to\r\n"
    "450 4.2.1  https://support.google.com/mail/?p=ReceivingRatePerm 5b1f17b1804b1-47d3 - gsmtp")
GMAIL_DISABLED = (
    "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n"
    "550 5.2.1  https://support.google.com/mail/?p=DisabledUser 2adb3069b0e04-5a1c - gsmtp")
GMAIL_QUOTA = (
    "552-5.2.2 The email account that you tried to reach is over quota. Please direct\r\n"
    "552-5.2.2 the recipient to\r\n"
    "552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm 6a1803df08f44-8c46 - gsmtp")

#: The answer key, in the order the mail is sent.
CASES: tuple[Case, ...] = (
    Case("a", _o("mia.kowalski"), ("r.mills@yahoo.com",), "policyviolation", "remote_policy", None,
         "Yahoo refused the message after DATA: '554 5.7.9 Message not accepted for policy reasons.'"),
    Case("b", _o("lucas.brandt"), ("j.kerr@yahoo.com",), "badreputation", "transient", None,
         "Yahoo deferred at MAIL FROM: '421 4.7.0 [TSS04] Messages from 203.0.113.45 temporarily deferred due to "
         "unexpected volume or user complaints'; still queued (retried) at the end of the log."),
    Case("c", _o("zoe.harper"), ("m.hale@icloud.com",), "userunknown", "invalid_recipient", None,
         "iCloud at RCPT: '550 5.1.1 unknown or illegal alias: m.hale@icloud.com'."),
    Case("d", _o("finn.obrien"), ("accounts@brightwater-legal.example",), "policyviolation", "remote_policy", None,
         "Mimecast after DATA: '550 Rejected by header-based Anti-Spoofing policy'."),
    Case("e", _o("nora.lindgren"), ("procurement@stonegate-mfg.example",), "blocked", "remote_blacklist", None,
         "Proofpoint refused our IP at MAIL FROM: '554 5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip=...' "
         "(Proofpoint's own reputation list, no DNSBL zone named)."),
    Case("f", _o("hugo.ferrand"), ("d.warren@contoso-marine.example",), "blocked", "remote_blacklist",
         "zen.spamhaus.org",
         "Exchange Online at RCPT: '550 5.7.1 Service unavailable, Client host [203.0.113.45] blocked using "
         "Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/...'."),
    Case("g", _o("ella.vance"), ("t.okoye@gmail.com",), "authfailure", "remote_policy", None,
         "Gmail after DATA: '550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail "
         "requires all senders to authenticate with either SPF or DKIM.'"),
    Case("h", _o("omar.haddad"), ("s.brandt@gmail.com",), "requireptr", "remote_policy", None,
         "Gmail after DATA: '550-5.7.25 ... does not have a PTR record setup'."),
    Case("i", _o("ivy.chen"), ("l.moreau@gmail.com",), "speeding", "transient", None,
         "Gmail at RCPT: '450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents "
         "additional messages from being delivered'; deferred, still queued."),
    Case("j", _o("jonas.berg"), ("old.account@gmail.com",), "suspend", "recipient_unavailable", None,
         "Gmail at RCPT: '550-5.2.1 The email account that you tried to reach is disabled.'"),
    Case("k", _o("tara.singh"), ("p.ansel@gmail.com",), "mailboxfull", "recipient_unavailable", None,
         "Gmail at RCPT: '552-5.2.2 The email account that you tried to reach is over quota.'"),
    Case("l", _o("oliver.grant"), ("k.lindqvist@fabrikam-energy.example",), "userunknown", "invalid_recipient", None,
         "Exchange Online at RCPT: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ... not found by SMTP "
         "address lookup'."),
    Case("m", _o("priya.nair"), ("info@fabrikam-energy.example",), "userunknown", "invalid_recipient", None,
         "Exchange Online directory-based edge blocking at RCPT: '550 5.4.1 Recipient address rejected: Access "
         "denied' (the address does not exist in the tenant)."),
    Case("n", _o("ethan.cole"), ("orders@grenwich-supply.example",), "hostunknown", "invalid_recipient", None,
         "The recipient domain does not exist (NXDOMAIN): Postfix bounced 'Host or domain name not found. Name "
         "service error for name=grenwich-supply.example type=MX: Host not found'."),
    Case("o", _o("noah.fischer"), ("helpdesk@oldfield-systems.example",), "networkerror", "transient", None,
         "The MX host refuses connections: 'connect to mail.oldfield-systems.example[127.0.2.38]:25: Connection "
         "refused'; deferred, still queued."),
    Case("p", _o("sophie.martin"), ("treasury@vaultbank-secure.example",), "failedstarttls", "transient", None,
         "Our smtp_tls_policy_maps says 'encrypt' for the domain, its MX does not offer STARTTLS: 'TLS is "
         "required, but was not offered by host ...'; deferred, still queued."),
    Case("q", _o("daniel.weiss"), ("bookings@harbourview-hotel.example",), "delivered", "delivered", None,
         "Greylisted first ('450 4.2.0 ... Recipient address rejected: Greylisted'), delivered on the retry."),
    Case("r", _o("ava.thompson"), ("intake@rivermouth-archive.example",), "mesgtoobig", "remote_policy", None,
         "The remote advertises SIZE 1048576; Postfix itself bounced the 1.5 MB message: 'message size ... "
         "exceeds size limit 1048576 of server ...'.", size=1_500_000),
    Case("s", _o("liam.baker"), ("partners@eastgate-partners.example",), "delivered", "delivered", None,
         "Normal outbound delivery: '250 2.0.0 Ok: queued as ...'."),
    # inbound: outside senders to our users, refused by our own Postfix's checks
    Case("t", "billing@paypa1-support.example", (_o("amelia.ross"),), "rejected", "gateway_policy", None,
         "reject_unknown_sender_domain: the sender's domain does not exist: '450 4.1.8 <...>: Sender address "
         "rejected: Domain not found'.", client_ip="127.0.1.41", helo="mail.paypa1-support.example"),
    Case("u", "it@riverside-print.example", (_o("ben.chen"),), "blocked", "gateway_policy", None,
         "reject_invalid_helo_hostname: '501 5.5.2 <SRV-EXCH01.corp..local>: Helo command rejected: Invalid name'.",
         client_ip="127.0.1.42", helo="SRV-EXCH01.corp..local"),
    Case("v", "a.kumar@deltaweave.example", ("sales@othercorp.example",), "norelaying", "gateway_policy", None,
         "An outside client asked our MX to relay to another domain: '554 5.7.1 <sales@othercorp.example>: Relay "
         "access denied' (reject_unauth_destination).", client_ip="127.0.1.43", helo="mail.deltaweave.example"),
    Case("w", "offers@cheapmeds-direct.example", (_o("carla.diaz"),), "requireptr", "gateway_policy", None,
         "reject_unknown_client_hostname: the client IP has no PTR: '450 4.7.25 Client host rejected: cannot find "
         "your hostname'.", client_ip="127.0.1.44", helo="mail.cheapmeds-direct.example"),
    Case("x", "promo@flashdeals-weekly.example", (_o("amelia.ross"),), "rejected", "gateway_policy", None,
         "Our check_sender_access map: 'REJECT Sender blacklisted by local policy' -> '554 5.7.1 <...>: Sender "
         "address rejected: Sender blacklisted by local policy' (our access map, not a reputation service).",
         client_ip="127.0.1.48", helo="mx.flashdeals-weekly.example"),
    Case("y", "winner@lucky-draw.example", (_o("ben.chen"),), "spamdetected", "gateway_policy", None,
         "Our header_checks: 'reject: header Subject: ... 5.7.1 Your message looks like spam'.",
         client_ip="127.0.1.47", helo="mail.lucky-draw.example", subject="You are our lottery jackpot winner"),
    Case("z", "news@bargain-blast.example", (_o("carla.diaz"),), "blocked", "gateway_reputation",
         "b.barracudacentral.org",
         "Client IP listed in b.barracudacentral.org (reject_rbl_client): 'Client host [127.0.1.45] blocked using "
         "b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip=127.0.1.45'.",
         client_ip="127.0.1.45", helo="mail.bargain-blast.example"),
    Case("aa", "team@crypto-gains-now.example", (_o("amelia.ross"),), "blocked", "gateway_reputation",
         "dbl.spamhaus.org",
         "The sender's domain listed in dbl.spamhaus.org (reject_rhsbl_sender): 'Sender address "
         "[team@crypto-gains-now.example] blocked using dbl.spamhaus.org; https://www.spamhaus.org/query/domain/...'.",
         client_ip="127.0.1.46", helo="mail.crypto-gains-now.example"),
    Case("ac", "deals@megasale-outlet.example", (_o("amelia.ross"),), "blocked", "gateway_reputation",
         "zen.spamhaus.org",
         "postscreen in front of smtpd (postscreen_dnsbl_action = enforce): the client IP is listed in "
         "zen.spamhaus.org, postscreen's own SMTP engine refuses at RCPT: 'NOQUEUE: reject: RCPT from "
         "[127.0.1.50]:PORT: 550 5.7.1 Service unavailable; client [127.0.1.50] blocked using zen.spamhaus.org; "
         "from=<...>, to=<...>, proto=ESMTP, helo=<...>' (commas between the fields).",
         client_ip="127.0.1.50", helo="mail.megasale-outlet.example"),
    Case("ad", "mailer@bulk-blaster.example", (_o("ben.chen"),), "blocked", "gateway_policy", None,
         "A spambot that talks before the banner (postscreen_greet_action = enforce): postscreen logs PREGREET and "
         "refuses at RCPT with '550 5.5.1 Protocol error' (our gateway's protocol test of the client, not a "
         "syntax problem of the mail).", client_ip="127.0.1.51", helo="bulk-blaster.example"),
    Case("ab", "j.alvarez@pinecrest-farms.example", (_o("ben.chen"), _o("carla.diaz")), "delivered", "delivered",
         None, "Nothing wrong: accepted and delivered to two local mailboxes.",
         client_ip="127.0.1.40", helo="mail.pinecrest-farms.example"),
)

#: Inbound clients that have a name (forward-confirmed through /etc/hosts); 127.0.1.44/.45 have none.
CLIENT_NAMES = {"127.0.1.40": "mail.pinecrest-farms.example", "127.0.1.41": "mail.paypa1-support.example",
                "127.0.1.42": "srv-exch01.riverside-print.example", "127.0.1.43": "mail.deltaweave.example",
                "127.0.1.46": "mail.crypto-gains-now.example", "127.0.1.47": "mail.lucky-draw.example",
                "127.0.1.48": "mx.flashdeals-weekly.example", "127.0.3.10": f"groupware.{DOMAIN}"}
GROUPWARE = "127.0.3.10"


@dataclass(frozen=True)
class Remote:
    """A scripted remote MX: its name, address, and replies per recipient (stage -> reply)."""

    host: str
    ip: str
    replies: dict[str, dict[str, str]]
    size_limit: int | None = None


REMOTES = (
    Remote("mta5.am0.yahoodns.net", "127.0.2.31", {
        "r.mills@yahoo.com": {"DATA": "554 5.7.9 Message not accepted for policy reasons.  See "
                                      "https://postmaster.yahooinc.com/error-codes"},
        "j.kerr@yahoo.com": {"MAIL": f"421 4.7.0 [TSS04] Messages from {OUR_IP} temporarily deferred due to "
                                     "unexpected volume or user complaints - 4.16.55.1; see "
                                     "https://postmaster.yahooinc.com/error-codes"}}),
    Remote("mx01.mail.icloud.com", "127.0.2.32", {
        "m.hale@icloud.com": {"RCPT": "550 5.1.1 unknown or illegal alias: m.hale@icloud.com"}}),
    Remote("eu-smtp-inbound-1.mimecast.com", "127.0.2.33", {
        "accounts@brightwater-legal.example": {
            "DATA": "550 Rejected by header-based Anti-Spoofing policy: accounts@brightwater-legal.example - "
                    "https://community.mimecast.com/docs/DOC-1369#550 [kY8wZr3nQxO2fTb1sLpA9g.uk77]"}}),
    Remote("mx0a-00123401.pphosted.com", "127.0.2.34", {
        "procurement@stonegate-mfg.example": {"MAIL": f"554 5.7.1 Blocked - see https://ipcheck.proofpoint.com/"
                                                      f"?ip={OUR_IP}"}}),
    Remote("contosomarine-example.mail.protection.outlook.com", "127.0.2.35", {
        "d.warren@contoso-marine.example": {
            "RCPT": f"550 5.7.1 Service unavailable, Client host [{OUR_IP}] blocked using Spamhaus. To request "
                    f"removal from this list see https://www.spamhaus.org/query/ip/{OUR_IP} (AS3130) "
                    "[BN8NAM12FT053.eop-nam12.prod.protection.outlook.com]"}}),
    Remote("gmail-smtp-in.l.google.com", "127.0.2.36", {
        "t.okoye@gmail.com": {"DATA": GMAIL_AUTH}, "s.brandt@gmail.com": {"DATA": GMAIL_PTR},
        "l.moreau@gmail.com": {"RCPT": GMAIL_RATE}, "old.account@gmail.com": {"RCPT": GMAIL_DISABLED},
        "p.ansel@gmail.com": {"RCPT": GMAIL_QUOTA}}),
    Remote("fabrikamenergy-example.mail.protection.outlook.com", "127.0.2.37", {
        "k.lindqvist@fabrikam-energy.example": {
            "RCPT": "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient k.lindqvist@fabrikam-energy.example not "
                    "found by SMTP address lookup"},
        "info@fabrikam-energy.example": {
            "RCPT": "550 5.4.1 Recipient address rejected: Access denied. For more information see "
                    "https://aka.ms/EXOSmtpErrors [AM4PEPF00025F9B.EURPRD83.prod.outlook.com]"}}),
    # 127.0.2.38 (mail.oldfield-systems.example): nothing listens
    Remote("mx.vaultbank-secure.example", "127.0.2.39", {}),  # offers no STARTTLS
    Remote("mx.harbourview-hotel.example", "127.0.2.40", {
        "bookings@harbourview-hotel.example": {
            "GREYLIST": "450 4.2.0 <bookings@harbourview-hotel.example>: Recipient address rejected: Greylisted, "
                        "see http://postgrey.schweikert.ch/help/harbourview-hotel.example.html"}}),
    Remote("mail.rivermouth-archive.example", "127.0.2.41", {}, size_limit=1_048_576),
    Remote("mail.eastgate-partners.example", "127.0.2.42", {}),
)

#: DNS, served by rbldnsd in the namespace (generic datasets: names relative to the zone).
ZONES = {
    "example": f"""
brightwater-legal MX 10 eu-smtp-inbound-1.mimecast.com
stonegate-mfg MX 10 mx0a-00123401.pphosted.com
contoso-marine MX 0 contosomarine-example.mail.protection.outlook.com
fabrikam-energy MX 0 fabrikamenergy-example.mail.protection.outlook.com
oldfield-systems MX 10 mail.oldfield-systems.example
mail.oldfield-systems A 127.0.2.38
vaultbank-secure MX 10 mx.vaultbank-secure.example
mx.vaultbank-secure A 127.0.2.39
harbourview-hotel MX 10 mx.harbourview-hotel.example
mx.harbourview-hotel A 127.0.2.40
rivermouth-archive MX 10 mail.rivermouth-archive.example
mail.rivermouth-archive A 127.0.2.41
eastgate-partners MX 10 mail.eastgate-partners.example
mail.eastgate-partners A 127.0.2.42
{DOMAIN.split('.')[0]} MX 10 mx1.{DOMAIN}
mx1.{DOMAIN.split('.')[0]} A 127.0.0.1
pinecrest-farms MX 10 mail.pinecrest-farms.example
mail.pinecrest-farms A 127.0.1.40
riverside-print A 127.0.1.42
deltaweave A 127.0.1.43
cheapmeds-direct A 127.0.1.44
bargain-blast A 127.0.1.45
crypto-gains-now A 127.0.1.46
lucky-draw A 127.0.1.47
flashdeals-weekly A 127.0.1.48
megasale-outlet A 127.0.1.50
bulk-blaster A 127.0.1.51
""",
    "com": """
gmail MX 5 gmail-smtp-in.l.google.com
gmail-smtp-in.l.google A 127.0.2.36
yahoo MX 1 mta5.am0.yahoodns.net
icloud MX 10 mx01.mail.icloud.com
mx01.mail.icloud A 127.0.2.32
eu-smtp-inbound-1.mimecast A 127.0.2.33
mx0a-00123401.pphosted A 127.0.2.34
contosomarine-example.mail.protection.outlook A 127.0.2.35
fabrikamenergy-example.mail.protection.outlook A 127.0.2.37
""",
    "net": "mta5.am0.yahoodns A 127.0.2.31\n",
    "127.in-addr.arpa": "1.0.0 TXT \"loopback\"\n",  # any other PTR: NXDOMAIN
}
BARRACUDA = ("127.0.1.45 :127.0.0.2:http://www.barracudanetworks.com/reputation/?pr=1&ip=$\n")
ZEN = "127.0.1.50 :127.0.0.4:https://www.spamhaus.org/query/ip/$\n"
#: The cases that come in through postscreen (on the run's last port); the others through smtpd.
POSTSCREENED = ("127.0.1.50", "127.0.1.51")
#: The client that talks before postscreen's banner (a spambot's "pregreet").
PREGREETER = "127.0.1.51"
DBL = "crypto-gains-now.example :127.0.1.2:https://www.spamhaus.org/query/domain/crypto-gains-now.example\n"

HEADER_CHECKS = "/^Subject:.*\\b(lottery|jackpot)\\b/ REJECT 5.7.1 Your message looks like spam\n"
SENDER_ACCESS = "promo@flashdeals-weekly.example REJECT Sender blacklisted by local policy\n"
#: Our users' mailboxes (local_recipient_maps looks the whole address up, local(8) the local part).
ALIASES = "/^(" + "|".join(u.replace(".", "\\.") for u in USERS) + ")(@" + DOMAIN.replace(".", "\\.") + \
    ")?$/ root@localhost\n"
TLS_POLICY = "vaultbank-secure.example encrypt\n"


def holdout_run() -> PostfixRun:
    return PostfixRun(
        main=(f"myhostname = mx1.{DOMAIN}", f"mydomain = {DOMAIN}", f"mydestination = {DOMAIN}, localhost",
              "mynetworks = 127.0.0.1/32 127.0.3.0/24", "default_transport = smtp",
              f"alias_maps = hash:/etc/aliases regexp:{map_path('aliases')}",
              "smtpd_helo_required = yes",
              "smtpd_client_restrictions = permit_mynetworks, reject_rbl_client b.barracudacentral.org, "
              "reject_unknown_client_hostname",
              "smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname",
              f"smtpd_sender_restrictions = permit_mynetworks, check_sender_access hash:{map_path('sender_access')}, "
              "reject_rhsbl_sender dbl.spamhaus.org, reject_unknown_sender_domain",
              "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
              f"header_checks = regexp:{map_path('header_checks')}",
              "smtp_tls_security_level = may", f"smtp_tls_policy_maps = hash:{map_path('tls_policy')}",
              "queue_run_delay = 1s", "minimal_backoff_time = 1s", "maximal_backoff_time = 2s",
              "smtp_connect_timeout = 5s",
              # postscreen (the last port): a DNSBL score of 1 is enough, its greeting waits 1 s for the answers
              "postscreen_dnsbl_sites = zen.spamhaus.org", "postscreen_dnsbl_threshold = 1",
              "postscreen_dnsbl_action = enforce", "postscreen_greet_action = enforce", "postscreen_greet_wait = 1s"),
        maps={"aliases": ALIASES, "sender_access": SENDER_ACCESS, "header_checks": HEADER_CHECKS,
              "tls_policy": TLS_POLICY},
        hashed=("sender_access", "tls_policy"), netns=NETNS, purge_queue=True, postscreen=True,
    )


# -- inside the namespace: the remote servers and the mail ---------------------------------------------------------

class ScriptedRemote:
    """aiosmtpd handler answering each recipient as scripted (greylisting: 450 on the first try only)."""

    def __init__(self, remote: Remote) -> None:
        self.replies = remote.replies
        self.greylisted: set[str] = set()

    def _for(self, envelope) -> dict[str, str]:
        return next((self.replies[r] for r in envelope.rcpt_tos if r in self.replies), {})

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        script = self.replies.get(address, {})
        if "MAIL" in script:  # a refusal of the sending IP: Postfix sends MAIL FROM before RCPT, so say it now
            return script["MAIL"]
        if "RCPT" in script:
            return script["RCPT"]
        if "GREYLIST" in script and address not in self.greylisted:
            self.greylisted.add(address)
            return script["GREYLIST"]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope) -> str:
        return self._for(envelope).get("DATA") or f"250 2.0.0 Ok: queued as {uuid.uuid4().hex[:12].upper()}"


class MailFromRefusing(ScriptedRemote):
    """The remotes that refuse our IP at MAIL FROM (Yahoo's TSS04, Proofpoint): the sender decides."""

    def __init__(self, remote: Remote, by_sender: dict[str, str]) -> None:
        super().__init__(remote)
        self.by_sender = by_sender

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        refusal = self.by_sender.get(address)
        if refusal:
            return refusal
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


def _remote_handler(remote: Remote) -> ScriptedRemote:
    by_sender = {c.sender: remote.replies[c.recipients[0]]["MAIL"] for c in CASES
                 if c.recipients[0] in remote.replies and "MAIL" in remote.replies[c.recipients[0]]}
    return MailFromRefusing(remote, by_sender) if by_sender else ScriptedRemote(remote)


def _message(case: Case) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = case.sender, ", ".join(case.recipients), case.subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@{case.sender.split('@')[1]}>"
    msg.set_content("Hello,\n\nplease find the details below.\n" + ("x" * 75 + "\n") * (case.size // 76))
    return msg


_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


def _send(port: int, case: Case) -> None:
    """Submit the case's message; our gateway must refuse exactly the inbound cases that expect a refusal."""
    ip = case.client_ip or GROUPWARE
    helo = case.helo or f"groupware.{DOMAIN}"
    refused: Exception | None = None
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(ip, 0)) as smtp:
        smtp.ehlo(helo)
        try:
            smtp.send_message(_message(case), case.sender, list(case.recipients))
        except _REFUSED as exc:
            refused = exc
    expected = case.direction == "inbound" and case.expected_cause != "delivered"
    if expected != (refused is not None):
        raise RuntimeError(f"case {case.case}: our gateway {'refused' if refused else 'accepted'} the mail: {refused}")


def _pregreet(port: int, case: Case) -> None:
    """A client that sends EHLO before the banner, then again after it; postscreen must refuse its recipient."""
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(case.client_ip or "", 0)) as sock:
        sock.sendall(f"EHLO {case.helo}\r\n".encode())
        replies = sock.makefile("rb")

        def reply() -> str:
            lines = [replies.readline().decode()]
            while lines[-1][3:4] == "-":
                lines.append(replies.readline().decode())
            return lines[-1]

        reply()  # the banner; postscreen took the early EHLO as the pregreet and does not answer it
        for command in (f"EHLO {case.helo}", f"MAIL FROM:<{case.sender}>", f"RCPT TO:<{case.recipients[0]}>"):
            sock.sendall(f"{command}\r\n".encode())
            last = reply()
        sock.sendall(b"QUIT\r\n")
    if not last.startswith("5"):
        raise RuntimeError(f"case {case.case}: postscreen answered RCPT with {last!r}")


def drive(port: int, postscreen_port: int, log: Path) -> None:
    """Inside the namespace: start the remotes, send every case, wait until the log has their outcomes."""
    from aiosmtpd.controller import Controller

    controllers = []
    for remote in REMOTES:
        params = {"data_size_limit": remote.size_limit} if remote.size_limit else {}
        controller = Controller(_remote_handler(remote), hostname=remote.ip, port=25,
                                server_hostname=remote.host, **params)
        controller.start()
        controllers.append(controller)
    try:
        for case in CASES:
            if case.client_ip == PREGREETER:
                _pregreet(postscreen_port, case)
            else:
                _send(postscreen_port if case.client_ip in POSTSCREENED else port, case)
            time.sleep(0.15)
        bounced = sum(c.direction == "outbound" and c.expected_cause not in ("delivered", "transient")
                      for c in CASES)
        wait_for_log(log, "sender non-delivery notification", bounced, timeout=40)
        wait_for_log(log, "bookings@harbourview-hotel.example>, relay=mx.harbourview-hotel.example[127.0.2.40]:25, "
                     "delay", 2, timeout=40)  # greylisted, then delivered on the retry
        wait_for_log(log, "status=sent (250 2.0.0 Ok: queued as", 2, timeout=20)
        time.sleep(1.5)
        # Postfix stops while the remotes still answer: the deferred mail's last attempt is theirs, not a refused
        # connection to a remote that is gone.
        subprocess.run([require_binary("postfix"), "stop"], capture_output=True, timeout=60)
        deadline = time.monotonic() + 20
        while master_running() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for controller in controllers:
            controller.stop()


# -- outside: the namespace, its DNS, the run ----------------------------------------------------------------------

def _setup_netns(folder: Path) -> subprocess.Popen[bytes]:
    ip, rbldnsd = require_binary("ip"), require_binary("rbldnsd")
    subprocess.run([ip, "netns", "del", NETNS], capture_output=True, timeout=30)  # a leftover of a killed run
    added = subprocess.run([ip, "netns", "add", NETNS], capture_output=True, text=True, timeout=30)
    if added.returncode != 0:  # a container without CAP_SYS_ADMIN
        unavailable(f"cannot create a network namespace: {added.stderr.strip()}")
    etc = Path("/etc/netns") / NETNS
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    (etc / "hosts").write_text("127.0.0.1 localhost\n" + "".join(f"{a} {n}\n" for a, n in CLIENT_NAMES.items()))
    subprocess.run([ip, "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"], check=True, timeout=30)
    specs = []
    for zone, data in ZONES.items():
        (folder / zone).write_text(data.lstrip())
        specs.append(f"{zone}:generic:{zone}")
    (folder / "barracuda").write_text(BARRACUDA)
    (folder / "dbl").write_text(DBL)
    (folder / "zen").write_text(ZEN)
    specs += ["b.barracudacentral.org:ip4set:barracuda", "dbl.spamhaus.org:dnset:dbl", "zen.spamhaus.org:ip4set:zen"]
    folder.chmod(0o755)  # rbldnsd reads its files after dropping root
    for path in folder.iterdir():
        path.chmod(0o644)
    server = subprocess.Popen([ip, "netns", "exec", NETNS, rbldnsd, "-n", "-q", "-b", "127.0.0.1/53",
                               "-r", str(folder), *specs], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    if server.poll() is not None:
        raise RuntimeError(f"rbldnsd did not start: {server.stderr.read().decode() if server.stderr else ''}")
    return server


def _teardown_netns(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
    subprocess.run([require_binary("ip"), "netns", "del", NETNS], capture_output=True, timeout=30)
    for name in ("resolv.conf", "hosts"):
        (Path("/etc/netns") / NETNS / name).unlink(missing_ok=True)
    (Path("/etc/netns") / NETNS).rmdir()


def record() -> Path:
    """Run the scenario on the real Postfix; the kept log's path (the caller removes it)."""
    require_root("running Postfix in a network namespace")
    with tempfile.TemporaryDirectory(prefix="bb-holdout-") as tmp:
        server = _setup_netns(Path(tmp))
        try:
            def scenario(ports: list[int], log: Path) -> None:
                subprocess.run(
                    [require_binary("ip"), "netns", "exec", NETNS, sys.executable, "-m", "tests.ingest.postfix_holdout",
                     "drive", str(ports[0]), str(ports[-1]), str(log)], check=True, cwd=ROOT, timeout=120,
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(ROOT)})

            return run_postfix(holdout_run(), scenario)
        finally:
            _teardown_netns(server)


if __name__ == "__main__":
    if sys.argv[1:2] == ["drive"]:
        drive(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    else:
        print(record().read_text())
