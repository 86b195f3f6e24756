"""Scenarios for a real Postfix: messages that never reach qmgr (header/body checks, milters, the size limit
without SIZE=, a client lost during DATA). Used by tests/ingest/test_postfix_fates_e2e.py; run this module as
a script (as root) to print the log a run writes."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.ingest.milter import TestMilter
from tests.ingest.real_postfix import PostfixRun, map_path, plain_message, run_postfix, smtp_client, wait_for_log

HEADER_CHECKS = """\
/^Subject:.*HEADER-REJECT/ REJECT 5.7.1 Subject refused by our header checks
/^Subject:.*HEADER-DISCARD/ DISCARD dropped by our header checks
/^Subject:.*HEADER-HOLD/ HOLD held by our header checks
/^Subject:.*HEADER-WARN/ WARN flagged by our header checks
/^X-Trace:/ INFO traced by our header checks
"""
BODY_CHECKS = "/BODY-REJECT/ REJECT 5.7.1 Body refused by our body checks\n"
BIG = ("x" * 76 + "\n") * 400  # over message_size_limit = 10240


def _message(sender: str, to: str, subject: str = "fates", body: str = "hello\n",
             trace: bool = False) -> EmailMessage:
    return plain_message(sender, to, subject, body, "fates.test",
                         {"X-Trace": "client-side trace id 42"} if trace else None)


def _client(port: int, last_octet: int) -> smtplib.SMTP:
    return smtp_client(port, last_octet, "client.fates.test")


def _send(port: int, octet: int, sender: str, rcpts: list[str], msg: EmailMessage) -> tuple[int, bytes]:
    """MAIL, RCPT..., DATA without a SIZE= declaration; DATA's reply."""
    with _client(port, octet) as smtp:
        assert smtp.mail(sender)[0] == 250
        for rcpt in rcpts:
            smtp.rcpt(rcpt)
        return smtp.data(msg.as_bytes())


def _lost_in_data(port: int, octet: int, sender: str, rcpts: list[str], trace: bool) -> None:
    """The client goes away in the middle of the message (headers sent, body unfinished)."""
    smtp = _client(port, octet)
    assert smtp.mail(sender)[0] == 250
    for rcpt in rcpts:
        assert smtp.rcpt(rcpt)[0] == 250
    smtp.putcmd("data")
    assert smtp.getreply()[0] == 354
    head = b"From: x\r\nSubject: lost\r\n" + (b"X-Trace: client-side trace id 42\r\n" if trace else b"")
    smtp.send(head + b"\r\nthe first lines of a body that never ends\r\n" * 3)
    time.sleep(0.5)
    smtp.sock.close()


def scenario(ports: list[int], log: Path) -> None:
    main, dead_tempfail, dead_reject = ports
    rt = "root@test.local"
    # header and body checks in cleanup
    _send(main, 21, "hdr-reject@senders.example", [rt, "postmaster@test.local"],
          _message("hdr-reject@senders.example", rt, "HEADER-REJECT offer"))
    _send(main, 22, "body-reject@senders.example", [rt], _message("body-reject@senders.example", rt,
                                                                   body="a BODY-REJECT line\n"))
    _send(main, 23, "hdr-discard@senders.example", [rt], _message("hdr-discard@senders.example", rt,
                                                                   "HEADER-DISCARD"))
    _send(main, 24, "hdr-hold@senders.example", [rt], _message("hdr-hold@senders.example", rt, "HEADER-HOLD"))
    _send(main, 25, "hdr-warn@senders.example", [rt], _message("hdr-warn@senders.example", rt, "HEADER-WARN"))
    # message_size_limit without SIZE=: the sender is known only from the INFO line of the same queue id
    _send(main, 26, "big-traced@senders.example", [rt, "postmaster@test.local"],
          _message("big-traced@senders.example", rt, body=BIG, trace=True))
    # the client lost during DATA, with and without a line that names the sender
    _lost_in_data(main, 27, "lost-traced@senders.example", [rt], trace=True)
    _lost_in_data(main, 28, "lost-quiet@senders.example", [rt], trace=False)
    _lost_in_data(main, 29, "lost-two@senders.example", [rt, "postmaster@test.local"], trace=False)
    # a real milter
    _send(main, 31, "milter-text@senders.example", [rt], _message("milter-text@senders.example", rt,
                                                                   body="MILTER-REJECT-TEXT\n"))
    _send(main, 32, "milter-plain@senders.example", [rt], _message("milter-plain@senders.example", rt,
                                                                    body="MILTER-REJECT-PLAIN\n"))
    _send(main, 33, "milter-tempfail@senders.example", [rt], _message("milter-tempfail@senders.example", rt,
                                                                       body="MILTER-TEMPFAIL\n"))
    _send(main, 34, "milter-discard@senders.example", [rt], _message("milter-discard@senders.example", rt,
                                                                      body="MILTER-DISCARD\n"))
    _send(main, 35, "milter-hold@senders.example", [rt], _message("milter-hold@senders.example", rt,
                                                                   body="MILTER-QUARANTINE\n"))
    _send(main, 36, "milter-rcpt@senders.example", [rt, "root+milter-reject@test.local"],
          _message("milter-rcpt@senders.example", rt))
    # milters that cannot be reached, with milter_default_action tempfail and reject
    with _client(dead_tempfail, 41) as smtp:
        assert smtp.mail("dead-tempfail@senders.example")[0] == 451
    with pytest.raises(smtplib.SMTPConnectError):  # refused at CONNECT: the client never names its sender
        _client(dead_reject, 42)
    wait_for_log(log, "status=sent", 2)  # the WARN-flagged message and milter-rcpt's other recipient
    wait_for_log(log, ": removed", 2)
    time.sleep(1)  # cleanup's last lines


def fates_run(milter_port: int) -> PostfixRun:
    dead = "inet:127.0.0.1:9"  # the discard port: nothing listens
    return PostfixRun(
        main=("message_size_limit = 10240", f"header_checks = regexp:{map_path('header_checks')}",
              f"body_checks = regexp:{map_path('body_checks')}", f"smtpd_milters = inet:127.0.0.1:{milter_port}",
              "milter_default_action = accept", "recipient_delimiter = +"),
        maps={"header_checks": HEADER_CHECKS, "body_checks": BODY_CHECKS},
        services=((), (f"smtpd_milters={dead}", "milter_default_action=tempfail"),
                  (f"smtpd_milters={dead}", "milter_default_action=reject")),
    )


def record() -> Path:
    with TestMilter() as milter:
        log = run_postfix(fates_run(milter.port), scenario)
    assert not milter.errors, milter.errors
    return log


# -- a queue that gives up: outbound mail deferred by the next hop until maximal_queue_lifetime ends ---------------

DEFER_REPLY = "451 4.3.0 Temporary local problem - please try later"


class Deferring:
    """aiosmtpd handler of the 'remote' next hop: defers every recipient."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return DEFER_REPLY


def expiry_run(relay_port: int) -> PostfixRun:
    return PostfixRun(main=(
        "default_transport = smtp", f"relayhost = [127.0.0.1]:{relay_port}", "maximal_queue_lifetime = 4s",
        "bounce_queue_lifetime = 4s", "queue_run_delay = 1s", "minimal_backoff_time = 1s",
        "maximal_backoff_time = 1s", "smtp_connect_timeout = 5s",
    ), purge_queue=True)  # the returned notice is still deferred when Postfix stops: the next run would expire it


def expiry_scenario(ports: list[int], log: Path) -> None:
    with _client(ports[0], 51) as smtp:
        smtp.send_message(_message("expire@ours.test", "someone@far.example"))
    wait_for_log(log, "status=expired, returned to sender", 1, timeout=90)
    time.sleep(1)


def record_expiry() -> Path:
    from aiosmtpd.controller import Controller

    from tests.support import free_port

    port = free_port()
    controller = Controller(Deferring(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        return run_postfix(expiry_run(port), expiry_scenario)
    finally:
        controller.stop()


if __name__ == "__main__":
    import sys

    print((record_expiry() if sys.argv[1:] == ["expiry"] else record()).read_text())
