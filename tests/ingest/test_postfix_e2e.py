"""A real Postfix on 127.0.0.1 (../shared/recipes/postfix.md): send mail it accepts and mail it rejects,
ingest the log it wrote, and find every event.

Runs as root (Postfix must be started by root); main.cf and master.cf are backed up and restored. One
Postfix per host, so a lock file keeps concurrent runs of this module apart.
"""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.ingest.runner import QUIET_SECONDS, Ingestor
from bot.store import Store
from storage.models import Event
from tests.ingest.real_postfix import PostfixRun, map_path, plain_message, run_postfix, smtp_client, wait_for_log

pytestmark = [pytest.mark.postfix, pytest.mark.slow]

#: The recipe's Postfix with a size limit, a recipient limit and a sender on our block map.
RUN = PostfixRun(
    main=("message_size_limit = 10240", "smtpd_recipient_limit = 3",
          f"smtpd_sender_restrictions = check_sender_access hash:{map_path('sender_access')}"),
    maps={"sender_access": "blocked@spam.example REJECT\n"}, hashed=("sender_access",),
)


def _message(sender: str, to: str, body: str = "hello\n") -> EmailMessage:
    return plain_message(sender, to, "bouncebot e2e", body, "e2e.test")


def _client(port: int, last_octet: int) -> smtplib.SMTP:
    return smtp_client(port, last_octet, "client.e2e.test")


def _send_scenarios(port: int) -> None:
    with _client(port, 11) as smtp:  # accepted and delivered
        smtp.send_message(_message("ok@good.example", "root@test.local"))
    with _client(port, 12) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:  # unknown user
        smtp.send_message(_message("someone@good.example", "nosuchuser@test.local"))
    assert refused.value.recipients["nosuchuser@test.local"][0] == 550
    with _client(port, 13) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused):  # sender on our block map
        smtp.send_message(_message("blocked@spam.example", "root@test.local"))
    big = "x" * 76 + "\n"
    with _client(port, 14) as smtp, pytest.raises(smtplib.SMTPSenderRefused) as size:  # oversize, SIZE declared
        smtp.send_message(_message("big@good.example", "root@test.local", big * 400))
    assert size.value.smtp_code == 552
    with _client(port, 15) as smtp:  # oversize without SIZE=: only the cleanup warning tells
        assert smtp.mail("nosize@good.example")[0] == 250
        assert smtp.rcpt("root@test.local")[0] == 250
        code, _ = smtp.data(_message("nosize@good.example", "root@test.local", big * 400).as_bytes())
        assert code == 552
    with _client(port, 16) as smtp:  # 5 recipients, smtpd_recipient_limit = 3
        assert smtp.mail("limit@good.example")[0] == 250
        codes = [smtp.rcpt(r)[0] for r in ("root@test.local", "root@localhost", "postmaster@test.local",
                                            "x1@test.local", "x2@test.local")]
        assert codes == [250, 250, 250, 452, 452]
        assert smtp.data(_message("limit@good.example", "root@test.local").as_bytes())[0] == 250


@pytest.fixture(scope="module")
def postfix_log() -> Iterator[Path]:
    def scenario(ports: list[int], log: Path) -> None:
        _send_scenarios(ports[0])
        # every delivery: the accepted message's one and the limit session's three (waiting for two `status=sent`
        # lines once let the log be read with only one of the limit session's three deliveries in it)
        wait_for_log(log, "status=sent", 4)
        wait_for_log(log, ": removed", 2)

    try:
        kept = run_postfix(RUN, scenario)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        pytest.fail(f"the Postfix end-to-end setup failed: {exc}")
    yield kept
    kept.unlink(missing_ok=True)


def _events(store: Store) -> list[Event]:
    with store.session() as session:
        return list(session.scalars(select(Event).order_by(Event.time, Event.id)))


def test_the_real_postfix_log_gives_every_event(store: Store, postfix_log: Path) -> None:
    # the oversize message's event waits for cleanup's lines until the log has gone quiet (bot.ingest.postfix)
    time.sleep(max(0.0, QUIET_SECONDS - (time.time() - postfix_log.stat().st_mtime)))
    result = Ingestor(store, "postfix").ingest(postfix_log)
    assert result.stats.skipped == 0, result.stats.examples
    stored = _events(store)
    events = [e for e in stored if e.disposition != "received"]  # one per queued message; tests/report has them
    by_sender: dict[str | None, list[Event]] = {}
    for event in events:
        by_sender.setdefault(event.sender, []).append(event)

    ok = by_sender["ok@good.example"]
    assert [(e.disposition, e.recipient, e.direction, e.client_ip) for e in ok] == [
        ("delivered", "root@test.local", "inbound", "127.0.0.11")]
    assert ok[0].message_id and ok[0].queue_id and ok[0].size

    unknown = by_sender["someone@good.example"]
    assert [(e.disposition, e.recipient, e.smtp_code, e.enhanced_status, e.stage, e.client_ip) for e in unknown] == [
        ("rejected", "nosuchuser@test.local", 550, "5.1.1", "RCPT", "127.0.0.12")]
    assert "User unknown in local recipient table" in unknown[0].reply_text
    assert unknown[0].reason == "userunknown" and unknown[0].cause == "invalid_recipient"

    blocked = by_sender["blocked@spam.example"]
    assert [(e.disposition, e.smtp_code, e.client_ip, e.rejected_by) for e in blocked] == [
        ("rejected", 554, "127.0.0.13", "gateway")]
    assert "Sender address rejected: Access denied" in blocked[0].reply_text
    assert blocked[0].cause == "gateway_policy"

    big = by_sender["big@good.example"]
    assert [(e.disposition, e.smtp_code, e.enhanced_status, e.stage, e.recipient) for e in big] == [
        ("rejected", 552, "5.3.4", "MAIL", None)]
    assert big[0].reason == "mesgtoobig"

    nosize = [e for e in events if e.client_ip == "127.0.0.15"]
    assert [(e.disposition, e.smtp_code, e.enhanced_status) for e in nosize] == [("rejected", 552, "5.3.4")]
    assert "queue file size limit exceeded" in nosize[0].reply_text and nosize[0].reason == "mesgtoobig"

    limit = by_sender["limit@good.example"]
    over = [e for e in limit if e.disposition == "rejected"]
    assert [(e.reason, e.cause, e.smtp_code, e.recipient, e.client_ip) for e in over] == [
        ("toomanyconn", "gateway_policy", 452, None, "127.0.0.16")] * 2
    assert "5 accepted RCPT commands against 3 queued" in over[0].reply_text
    assert {e.recipient for e in limit if e.disposition == "delivered"} == {
        "root@test.local", "root@localhost", "postmaster@test.local"}  # postmaster: orig_to of an alias

    again = Ingestor(store, "postfix").ingest(postfix_log)
    assert (again.stats.lines, again.new_events) == (0, 0)
    copy = postfix_log.with_name(postfix_log.name + ".copy")
    shutil.copy2(postfix_log, copy)
    try:
        assert Ingestor(store, "postfix").ingest(copy).new_events == 0
    finally:
        copy.unlink()
    assert len(_events(store)) == len(stored)
