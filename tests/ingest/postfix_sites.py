"""A real-Postfix scenario with the pieces real sites add to a plain MX: an after-queue content filter, address
verification, virtual aliases, LMTP delivery to a mail store, a relayhost and SASL submission. Used by
tests/ingest/test_postfix_sites_e2e.py; run as a script (as root) to print the log a run writes.

Postfix (tests/ingest/real_postfix.py) is the gateway of thornbury-dental.example, a relay domain whose mailboxes
live on a mail store reached over LMTP (relay_transport = lmtp:inet:...). Three smtpd services: the MX (port 25's
stand-in, with reject_unverified_sender and reject_unverified_recipient, address_verify_map empty so nothing is
cached between runs), the re-injection smtpd the content filter hands mail back to (content_filter and address
mappings off, like amavisd's :10025), and submission (SASL through a Dovecot-protocol auth service of the test's
own, permit_sasl_authenticated). content_filter = smtp:[127.0.0.1]:FILTER sends every message once through a
local SMTP server standing in for amavisd: it re-injects into the second smtpd and answers "250 2.0.0 from
MTA(...): 250 2.0.0 Ok: queued as NEWID" (amavisd's wording), or refuses "554 5.7.0 Reject, id=... - spam" /
"- BANNED: ..." / "- INFECTED: ...", or discards ("250 2.7.0 Ok, discarded, id=... - spam"), by what the message
carries (an X-Spam-Flag, an .exe attachment name, the EICAR string). Outbound mail leaves through relayhost =
[HOST]:SMART, a scripted smarthost (on this machine's own address off loopback: a relayhost is another
host, while the filter and the store on loopback are this one's) that also answers the sender-verification probes.

CASES is the answer key: one sender per case, its expected reason (Sisimai's names), cause (the runbook's), DNSBL
zone and the recipients the sender wrote (before alias expansion).
"""

from __future__ import annotations

import base64
import smtplib
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from tests.ingest.real_postfix import PostfixRun, run_postfix, wait_for_log
from tests.support import free_port, unavailable

DOMAIN = "thornbury-dental.example"
OUR_IP = "198.51.100.23"  # quoted by the smarthost as ours; appears only inside its replies
PASSWORD = "correct horse"
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@dataclass(frozen=True)
class Case:
    case: str
    sender: str
    recipients: tuple[str, ...]  # as the sender wrote them
    expected_reason: str
    expected_cause: str
    dnsbl_zone: str | None
    note: str
    client_ip: str = "127.0.0.30"
    submission: bool = False  # sent by a local user through port 587's stand-in with SASL auth
    auth: str | None = None   # the SASL user (None: the client does not authenticate)
    headers: tuple[tuple[str, str], ...] = ()
    attachment: str | None = None
    body: str = "Please see the note below.\n"

    @property
    def direction(self) -> str:
        return "outbound" if self.submission else "inbound"


def _d(user: str) -> str:
    return f"{user}@{DOMAIN}"


#: The mail store's users (LMTP): the rest are unknown to it.
MAILBOXES = ("alice.hart", "bob.ingram", "dana.moss", "erin.pratt", "frank.lowe", "gina.shah", "hal.owens")
#: virtual_alias_maps: one address becomes several (the delivery lines say orig_to=).
ALIASES = {"frontdesk": ("alice.hart", "bob.ingram"), "billing": ("dana.moss",)}
#: The mail store's refusals (Dovecot's LMTP wording): stage -> reply.
STORE_REPLIES = {
    "dana.moss": {"DATA": "552 5.2.2 <dana.moss@thornbury-dental.example> Quota exceeded (mailbox for user is full)"},
    "erin.pratt": {"RCPT": "552 5.2.2 <erin.pratt@thornbury-dental.example> Quota exceeded (mailbox for user is full)"},
}
UNKNOWN_LMTP = "550 5.1.1 <{rcpt}> User doesn't exist: {rcpt}"
#: The smarthost's scripted refusals, by recipient (or by verified sender): stage -> reply.
SMART_REPLIES = {
    "invoices@quarry-supplies.example": {
        "RCPT": "550 5.1.1 <invoices@quarry-supplies.example>: Recipient address rejected: User unknown in "
                "virtual mailbox table"},
    "noreply@bulkpromo-mailer.example": {
        "RCPT": "550 5.1.1 <noreply@bulkpromo-mailer.example>: Recipient address rejected: User unknown in "
                "virtual mailbox table"},
    "m.osei@hollowmere-labs.example": {
        "RCPT": f"554 5.7.1 Service unavailable; Client host [{OUR_IP}] blocked using zen.spamhaus.org; "
                f"https://www.spamhaus.org/query/ip/{OUR_IP}"},
    "r.quinn@ashcombe-law.example": {
        "DATA": "451 4.7.1 Please try again later: too many messages from your account in the last hour"},
}

CASES: tuple[Case, ...] = (
    Case("a", "j.fowler@meadowlark-pharma.example", (_d("alice.hart"),), "delivered", "delivered", None,
         "Inbound through the content filter (two queue ids) and delivered over LMTP."),
    Case("b", "promo@cheapwatch-deals.example", (_d("bob.ingram"),), "spamdetected", "gateway_policy", None,
         "Our content filter (amavisd) refused it as spam: '554 5.7.0 Reject, id=... - spam'; Postfix bounced it.",
         client_ip="127.0.0.31", headers=(("X-Spam-Flag", "YES"),)),
    Case("c", "accounts@fastpay-invoicing.example", (_d("frank.lowe"),), "policyviolation", "gateway_policy",
         None, "Our content filter refused a banned attachment: '554 5.7.0 Reject, id=... - BANNED: "
         "application/x-msdownload,.exe,invoice.exe'.", client_ip="127.0.0.32", attachment="invoice.exe"),
    Case("d", "hr@globex-careers.example", (_d("gina.shah"),), "virusdetected", "gateway_policy", None,
         "Our content filter found a virus: '554 5.7.0 Reject, id=... - INFECTED: Eicar-Signature'.",
         client_ip="127.0.0.33", body=f"{EICAR}\n"),
    Case("e", "winner@prize-notice.example", (_d("hal.owens"),), "spamdetected", "gateway_policy", None,
         "Our content filter discarded it silently: 'status=sent (250 2.7.0 Ok, discarded, id=... - spam)' -- "
         "accepted, never delivered.", client_ip="127.0.0.34", headers=(("X-Spam-Flag", "DISCARD"),)),
    Case("f", "s.iqbal@northwind-optics.example", (_d("ghost.user"),), "userunknown", "invalid_recipient", None,
         "reject_unverified_recipient: the mail store does not know the address: '550 5.1.1 <...>: Recipient "
         "address rejected: undeliverable address: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <...> User doesn't "
         "exist'.", client_ip="127.0.0.35"),
    Case("g", "noreply@bulkpromo-mailer.example", (_d("alice.hart"),), "rejected", "gateway_policy", None,
         "reject_unverified_sender: the sender's own address does not exist (the probe through the relayhost got "
         "550 5.1.1): '550 5.1.1 <...>: Sender address rejected: undeliverable address: ...'.",
         client_ip="127.0.0.36"),
    Case("h", "k.brennan@larchfield-school.example", (_d("frontdesk"),), "delivered", "delivered", None,
         "A virtual alias to two mailboxes (orig_to=), through the content filter, delivered.",
         client_ip="127.0.0.37"),
    Case("i", "orders@pembridge-labs.example", (_d("billing"),), "mailboxfull", "recipient_unavailable", None,
         "A virtual alias to one mailbox whose quota is exceeded: the mail store refused after DATA ('552 5.2.2 "
         "... Quota exceeded (mailbox for user is full)') on the second queue id; the sender wrote billing@.",
         client_ip="127.0.0.38"),
    Case("j", "t.nakamura@riverbend-imaging.example", (_d("erin.pratt"),), "mailboxfull", "recipient_unavailable",
         None, "reject_unverified_recipient: the probe met the mail store's quota refusal at RCPT: '... "
         "undeliverable address: host 127.0.0.1[127.0.0.1] said: 552 5.2.2 <...> Quota exceeded ...'.",
         client_ip="127.0.0.39"),
    # outbound: our users, SASL-authenticated on submission, through the filter and the relayhost
    Case("k", _d("alice.hart"), ("p.varga@kestrel-optometry.example",), "delivered", "delivered", None,
         "Submission with SASL auth, through the filter, relayed by the smarthost.", client_ip="127.0.0.40",
         submission=True, auth="alice.hart"),
    Case("l", _d("bob.ingram"), ("invoices@quarry-supplies.example",), "userunknown", "invalid_recipient", None,
         "The relayhost passes the remote's verdict at RCPT: '550 5.1.1 <...>: Recipient address rejected: User "
         "unknown in virtual mailbox table'.", client_ip="127.0.0.41", submission=True, auth="bob.ingram"),
    Case("m", _d("dana.moss"), ("m.osei@hollowmere-labs.example",), "blocked", "remote_blacklist",
         "zen.spamhaus.org", "Through the relayhost: '554 5.7.1 Service unavailable; Client host [...] blocked "
         "using zen.spamhaus.org'.", client_ip="127.0.0.42", submission=True, auth="dana.moss"),
    Case("n", _d("frank.lowe"), ("r.quinn@ashcombe-law.example",), "speeding", "transient", None,
         "The relayhost rate-limits the account: '451 4.7.1 Please try again later: too many messages from your "
         "account in the last hour'; deferred, still queued.", client_ip="127.0.0.43", submission=True,
         auth="frank.lowe"),
    Case("o", _d("gina.shah"), ("l.adeyemi@saltmarsh-vets.example",), "norelaying", "gateway_policy", None,
         "A mail client that does not authenticate on submission: '454 4.7.1 <...>: Relay access denied' "
         "(Postfix's default defer_unauth_destination).",
         client_ip="127.0.0.44", submission=True),
    Case("p", _d("hal.owens"), (_d("ghost.user2"),), "userunknown", "invalid_recipient", None,
         "An authenticated user writes to a colleague that does not exist: submission does not verify, the mail "
         "store refuses over LMTP at RCPT ('550 5.1.1 <...> User doesn't exist') on the second queue id.",
         client_ip="127.0.0.45", submission=True, auth="hal.owens"),
)

#: The cases Postfix refuses at RCPT (address verification, relay access): the rest it queues.
REFUSED_IN_SESSION = {"f", "g", "j", "o"}


# -- the local servers: content filter, mail store (LMTP), smarthost, SASL auth -------------------------------

def _aiosmtpd():
    try:
        from aiosmtpd.controller import Controller
        from aiosmtpd.lmtp import LMTP
    except ImportError:
        unavailable("aiosmtpd is not installed")
    return Controller, LMTP


class Store:
    """The mail store: Dovecot-like LMTP replies per user."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local, _, domain = address.partition("@")
        if domain.lower() != DOMAIN or local not in MAILBOXES:
            return UNKNOWN_LMTP.format(rcpt=address)
        reply = STORE_REPLIES.get(local, {}).get("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            reply = STORE_REPLIES.get(rcpt.partition("@")[0], {}).get("DATA")
            if reply:
                return reply
        return f"250 2.0.0 <{envelope.rcpt_tos[0]}> Saved"


class Smarthost:
    """The relayhost: scripted refusals by recipient, everything else accepted (verify probes included)."""

    count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = SMART_REPLIES.get(address.lower(), {}).get("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            reply = SMART_REPLIES.get(rcpt.lower(), {}).get("DATA")
            if reply:
                return reply
        Smarthost.count += 1
        return f"250 2.0.0 Ok: queued as 4Rq8Zk{Smarthost.count:05d}"


class Filter:
    """The content filter (amavisd's replies): refuse, discard, or re-inject and say the new queue id."""

    def __init__(self, reinject_port: int) -> None:
        self.reinject_port = reinject_port
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        ident = f"{4100 + self.count:05d}-0{self.count % 9 + 1}"
        text = envelope.content.decode("utf-8", "replace")
        if "X-Spam-Flag: YES" in text:
            return f"554 5.7.0 Reject, id={ident} - spam"
        if "X-Spam-Flag: DISCARD" in text:
            return f"250 2.7.0 Ok, discarded, id={ident} - spam"
        if 'filename="invoice.exe"' in text:
            return f"554 5.7.0 Reject, id={ident} - BANNED: application/x-msdownload,.exe,.exe-ms,invoice.exe"
        if "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in text:
            return f"554 5.7.0 Reject, id={ident} - INFECTED: Eicar-Signature"
        import asyncio
        return await asyncio.get_running_loop().run_in_executor(None, self._reinject, envelope)

    def _reinject(self, envelope) -> str:
        with smtplib.SMTP("127.0.0.1", self.reinject_port, timeout=30) as smtp:
            smtp.ehlo("localhost")
            smtp.mail(envelope.mail_from)
            for rcpt in envelope.rcpt_tos:
                smtp.rcpt(rcpt)
            code, reply = smtp.data(envelope.original_content or envelope.content)
        return f"250 2.0.0 from MTA(smtp:[127.0.0.1]:{self.reinject_port}): {code} {reply.decode()}"


class _AuthHandler(socketserver.StreamRequestHandler):
    """Dovecot's auth protocol (server side), as much as Postfix's smtpd uses: PLAIN and LOGIN, one password."""

    def handle(self) -> None:
        self.wfile.write(b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t1\nCUID\t1\n"
                         b"COOKIE\t" + b"0" * 32 + b"\nDONE\n")
        pending: dict[str, str] = {}
        for raw in self.rfile:
            parts = raw.decode().rstrip("\n").split("\t")
            if parts[0] == "AUTH":
                ident, mech = parts[1], parts[2]
                resp = next((p[5:] for p in parts if p.startswith("resp=")), None)
                pending[ident] = mech
                if resp is None:
                    self.wfile.write(f"CONT\t{ident}\t\n".encode())
                    continue
                self._answer(ident, resp)
            elif parts[0] == "CONT":
                self._answer(parts[1], parts[2] if len(parts) > 2 else "")

    def _answer(self, ident: str, resp: str) -> None:
        fields = base64.b64decode(resp or "").split(b"\0")
        user = fields[1].decode() if len(fields) == 3 else ""
        ok = len(fields) == 3 and fields[2].decode() == PASSWORD and user in MAILBOXES
        self.wfile.write((f"OK\t{ident}\tuser={user}\n" if ok else f"FAIL\t{ident}\tuser={user}\n").encode())
        self.wfile.flush()


def host_address() -> str:
    """This machine's own IPv4 address off loopback, where the smarthost listens: a relayhost is another host,
    and Postfix's services on loopback (the filter, the mail store) are this one's."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only the route's source address is chosen
            address = s.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        unavailable("no IPv4 address off loopback for the test's smarthost")
    return address


@contextmanager
def servers(reinject_port: int) -> Iterator[dict[str, int]]:
    Controller, LMTP = _aiosmtpd()
    ports = {name: free_port() for name in ("filter", "store", "smart", "auth")}
    smart_ip = host_address()

    class LMTPController(Controller):
        def factory(self):
            return LMTP(self.handler, hostname="store.thornbury-dental.example")

    started = [
        Controller(Filter(reinject_port), hostname="127.0.0.1", port=ports["filter"],
                   server_hostname="amavis.thornbury-dental.example", data_size_limit=0),
        LMTPController(Store(), hostname="127.0.0.1", port=ports["store"]),
        Controller(Smarthost(), hostname=smart_ip, port=ports["smart"],
                   server_hostname="smtp-relay.provider.example"),
    ]
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    auth = socketserver.ThreadingTCPServer(("127.0.0.1", ports["auth"]), _AuthHandler)
    auth.daemon_threads = True
    threading.Thread(target=auth.serve_forever, daemon=True).start()
    try:
        for controller in started:
            controller.start()
        yield {**ports, "smart_ip": smart_ip}
    finally:
        for controller in started:
            controller.stop()
        auth.shutdown()
        auth.server_close()


# -- the run ------------------------------------------------------------------------------------------------

def _message(case: Case, rcpt: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = case.sender, ", ".join(case.recipients), f"Case {case.case}"
    msg["Message-ID"] = make_msgid(domain=case.sender.rpartition("@")[2])
    for name, value in case.headers:
        msg[name] = value
    msg.set_content(case.body)
    if case.attachment:
        msg.add_attachment(b"MZ\x90\x00" * 64, maintype="application", subtype="x-msdownload",
                           filename=case.attachment)
    return msg


def _send(case: Case, port: int) -> bool:
    """Send the case's message; whether Postfix accepted it (False: refused in the SMTP session)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60, source_address=(case.client_ip, 0)) as smtp:
        smtp.ehlo(f"client{case.client_ip.rsplit('.', 1)[1]}.example")
        if case.auth:
            smtp.login(case.auth, PASSWORD)
        msg = _message(case, case.recipients[0])
        try:
            smtp.send_message(msg, from_addr=case.sender, to_addrs=list(case.recipients))
        except smtplib.SMTPRecipientsRefused:
            return False  # the refusal is the case: Postfix logged it
    return True


def _config(ports: dict, reinject: int) -> list[str]:
    return [
        "mynetworks = 127.0.0.1/32", f"relay_domains = {DOMAIN}",
        f"relay_transport = lmtp:inet:127.0.0.1:{ports['store']}", "default_transport = smtp",
        f"relayhost = [{ports['smart_ip']}]:{ports['smart']}", f"content_filter = smtp:[127.0.0.1]:{ports['filter']}",
        "virtual_alias_maps = hash:" + str(Path("/etc/postfix/bouncebot_e2e_virtual")),
        "address_verify_map =", "address_verify_poll_delay = 1s",
        "unverified_recipient_reject_code = 550", "unverified_sender_reject_code = 550",
        "smtpd_sender_restrictions = reject_unverified_sender",
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, reject_unverified_recipient",
        "smtpd_sasl_type = dovecot", f"smtpd_sasl_path = inet:127.0.0.1:{ports['auth']}",
        "smtp_tls_security_level = none", "lmtp_tls_security_level = none", "smtpd_tls_security_level = none",
        "bounce_queue_lifetime = 1h", "maximal_queue_lifetime = 1h",
    ]


def record() -> Path:
    """Run the scenario on a real Postfix; the path of the log it wrote (the caller removes it)."""
    reinject = free_port()
    with servers(reinject) as ports:
        virtual = "".join(f"{a}@{DOMAIN} {', '.join(_d(t) for t in targets)}\n" for a, targets in ALIASES.items())
        run = PostfixRun(
            main=_config(ports, reinject),
            maps={"virtual": virtual}, hashed=("virtual",),
            services=(
                (),  # the MX
                ("content_filter=", "receive_override_options=no_address_mappings",  # the filter's re-injection
                 "smtpd_sender_restrictions=", "smtpd_recipient_restrictions=permit_mynetworks,reject",
                 "mynetworks=127.0.0.0/8"),
                ("smtpd_sasl_auth_enable=yes", "smtpd_sender_restrictions=",  # submission
                 "smtpd_recipient_restrictions=permit_sasl_authenticated,reject_unauth_destination"),
            ),
            fixed_ports={1: reinject},
            purge_queue=True,
        )

        def scenario(smtpd: list[int], log: Path) -> None:
            mx, _, submission = smtpd
            # The first message passes the filter before the rest are sent: a site's log shows its filter
            # re-injecting mail long before (and far more often than) it refuses any.
            accepted = [_send(CASES[0], mx)]
            wait_for_log(log, "Saved)", 1)
            with ThreadPoolExecutor(4) as pool:  # the MX's address verification waits for its probes
                accepted += pool.map(lambda case: _send(case, submission if case.submission else mx), CASES[1:])
            refused = {case.case for case, ok in zip(CASES, accepted, strict=True) if not ok}
            if refused != REFUSED_IN_SESSION:
                raise RuntimeError(f"Postfix refused {sorted(refused)} in the SMTP session, not {REFUSED_IN_SESSION}")
            # every queued message but the deferred one is removed (12 through the filter, 9 of them re-injected,
            # 6 non-delivery notices, 14 verification probes): wait for the last lines
            wait_for_log(log, "status=deferred", 1)
            wait_for_log(log, ": removed", 44)
            time.sleep(1)

        return run_postfix(run, scenario)


if __name__ == "__main__":
    path = record()
    sys.stdout.write(path.read_text())
    path.unlink()
