"""A second real-Postfix scenario, built the way ../shared/corpus/postfix was (tests/ingest/postfix_holdout.py):
`bouncebot why SENDER --json` must give every case's reason, cause and DNSBL zone, and ingesting the log must
leave no line unrecognised and lose no message.

Postfix 3.7 runs in a network namespace as the MX of larkspur-foods.example (smtpd, and postscreen on a second
port), with rbldnsd as its DNS and scripted remote MX hosts on 127.0.2.x:25. The cases, none of them in the dev set:
 outbound  Yahoo "554 5.7.9 Message not accepted for policy reasons" (a) and "421 4.7.0 [TSS04] ... temporarily
           deferred due to ... user complaints" (b, still queued); iCloud "550 5.1.1 unknown or illegal alias" (c);
           Mimecast "550 Rejected by header-based Anti-Spoofing policy" (d); Proofpoint "554 5.7.1 Blocked - see
           https://ipcheck.proofpoint.com" (e); Exchange Online "550 5.7.1 Service unavailable, Client host [...]
           blocked using Spamhaus" (f); Gmail 5.7.26 unauthenticated (g), 5.7.25 no PTR (h), 4.2.1 receiving rate
           (i, still queued), 5.2.1 disabled (j), 5.2.2 over quota (k); Office 365 5.1.10 RecipientNotFound (l) and
           5.4.1 "Recipient address rejected: Access denied" (directory-based edge blocking, m); a domain that does
           not exist (n, Postfix's "Host or domain name not found"); an MX refusing connections (o, still queued);
           TLS required by our policy map but not offered (p, still queued); greylisted then delivered (q); the
           remote's SIZE limit, enforced by Postfix itself before sending (r); a plain delivery (s).
 inbound   reject_unknown_sender_domain (t, 450 4.1.8), reject_invalid_helo_hostname (u),
           reject_unauth_destination "Relay access denied" (v), reject_unknown_client_hostname (w, 450 4.7.25),
           a check_sender_access REJECT with the admin's own text "Sender blacklisted by local policy" (x), a
           header_checks REJECT "Your message looks like spam" (y), reject_rbl_client b.barracudacentral.org with
           its TXT (z), reject_rhsbl_sender dbl.spamhaus.org (aa), postscreen's own DNSBL reject against
           zen.spamhaus.org (ac, `from=<…>, to=<…>` comma-separated) and its pregreet test (ad, a client that
           talks before the banner: "550 5.5.1 Protocol error"), a delivery to two mailboxes (ab).
The answer key (postfix_holdout.CASES) was written from what each mail situation is, before running bouncebot.
Runs as root (Postfix, ip netns, rbldnsd on port 53 inside the namespace); skips with the reason otherwise.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.ingest.runner import QUIET_SECONDS, Ingestor
from bot.store import Store
from storage.models import Event
from tests.ingest.postfix_holdout import CASES, record
from tests.ingest.real_postfix import recorded

pytestmark = [pytest.mark.postfix, pytest.mark.rbldnsd, pytest.mark.slow]

#: Log lines that are outcomes: one event each (a reject names one recipient).
_OUTCOME = re.compile(r"status=(?:sent|bounced|deferred)|: reject: ")


@pytest.fixture(scope="module")
def holdout_log() -> Iterator[Path]:
    yield from recorded(record)


def _why(url: str, sender: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["--database", url, "why", sender, "--json", "--no-live", "--since", "3650d"]) == 0
    return json.loads(capsys.readouterr().out)


def _answer(diagnosis: dict) -> tuple[str, str, str | None]:
    verdict = diagnosis["verdict"]
    zone = diagnosis["findings"][0]["dnsbl_zone"] if diagnosis["findings"] else None
    return verdict["reason"], verdict["cause"], zone


def test_why_gives_every_case_of_the_real_log(store: Store, db_url: str, holdout_log: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    time.sleep(max(0.0, QUIET_SECONDS - (time.time() - holdout_log.stat().st_mtime)))  # the log has gone quiet
    result = Ingestor(store, "postfix").ingest(holdout_log)
    assert result.stats.unrecognised == {}, result.stats.examples
    assert result.stats.skipped == 0, result.stats.examples

    # no message lost: every outcome line is an event, and every case's sender has its outcome
    text = holdout_log.read_text()
    with store.session() as session:
        outcomes = list(session.scalars(select(Event).where(Event.disposition.in_(
            ("delivered", "bounced", "deferred", "rejected")))))
    assert len(outcomes) == sum(1 for line in text.splitlines() if _OUTCOME.search(line))
    senders = {e.sender for e in outcomes}
    assert {c.sender for c in CASES} <= senders

    wrong = []
    for case in CASES:
        diagnosis = _why(db_url, case.sender, capsys)
        got = _answer(diagnosis)
        if got != (case.expected_reason, case.expected_cause, case.dnsbl_zone):
            wrong.append(f"{case.case} {case.sender}: got {got}, expected "
                         f"{(case.expected_reason, case.expected_cause, case.dnsbl_zone)} -- {case.note}")
            continue
        if case.expected_cause != "delivered":
            top = diagnosis["findings"][0]
            assert top["direction"] == case.direction, case.case
            assert set(top["recipients"]) <= set(case.recipients), case.case
            if case.client_ip:
                assert case.client_ip in top["client_ips"], case.case
    assert not wrong, f"{len(CASES) - len(wrong)} of {len(CASES)} right:\n" + "\n".join(wrong)
