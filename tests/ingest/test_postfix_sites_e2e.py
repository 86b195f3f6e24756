"""Real Postfix with what real sites add to a plain MX (tests/ingest/postfix_sites.py): `bouncebot why SENDER
--json` gives every case's reason, cause, DNSBL zone and the recipients the sender wrote; ingesting leaves no line
unrecognised, loses no message and counts no outcome twice across the two queue ids of a filtered message; the
report's totals equal the real pflogsumm's on the same log.

Postfix 3.7 is the gateway of a relay domain whose mailboxes live on an LMTP mail store, with an after-queue
content filter (content_filter = smtp:[127.0.0.1]:PORT, an amavisd stand-in re-injecting into a second smtpd),
reject_unverified_sender / reject_unverified_recipient (probes from double-bounce@), virtual aliases (orig_to=),
a relayhost for outbound mail and SASL-authenticated submission (sasl_username=). The cases:
 inbound   delivered through the filter and LMTP (a); refused by the filter as spam (b, "554 5.7.0 Reject, id=...
           - spam"), for a banned attachment (c, "- BANNED: ...,invoice.exe"), for a virus (d, "- INFECTED:
           Eicar-Signature"); discarded by the filter (e, "status=sent (250 2.7.0 Ok, discarded, id=... - spam)");
           reject_unverified_recipient on an address the store does not know (f, "undeliverable address: ...
           550 5.1.1 ... User doesn't exist") and on a mailbox over quota (j, "... 552 5.2.2 ... Quota exceeded");
           reject_unverified_sender, the sender's address does not exist (g); an alias to two mailboxes delivered
           (h) and an alias to a mailbox the store refuses after DATA for its quota (i, on the second queue id).
 outbound  submission with SASL through the filter and the relayhost: delivered (k); the relayhost passes a
           remote's 550 5.1.1 (l), refuses us as listed in zen.spamhaus.org (m), defers for the account's rate
           (n, still queued); a client that does not authenticate, "454 4.7.1 ... Relay access denied" (o); a
           colleague's address the store does not know, refused over LMTP on the second queue id (p).
The answer key (postfix_sites.CASES) was written from what each situation is, before running bouncebot.
Runs as root (Postfix); skips with the reason otherwise (fails under BOUNCEBOT_REQUIRE_ALL).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.ingest.runner import QUIET_SECONDS, Ingestor
from bot.store import Store
from storage.models import Event
from tests.ingest.postfix_sites import CASES, record
from tests.ingest.real_postfix import recorded
from tests.report.pflogsumm import run_pflogsumm
from tests.support import require_binary

pytestmark = [pytest.mark.postfix, pytest.mark.slow]

#: A final delivery line (probes say deliverable/undeliverable) and a reject: one outcome each.
_OUTCOME = re.compile(r"status=(?:sent|bounced|deferred) |: reject: ")
#: "queued as NEWID" in a delivery's reply: the message went on under a new queue id (when that id is in the log).
_QUEUED_AS = re.compile(r"\]: (?P<qid>[0-9A-F]+): to=.*status=sent \(.*queued as (?P<next>[0-9A-F]+)\)$")
_SENT = re.compile(r"\]: (?P<qid>[0-9A-F]+): to=<(?P<to>[^>]*)>, (?:orig_to=<(?P<orig>[^>]*)>, )?.* status=sent ")


@pytest.fixture(scope="module")
def sites_log() -> Iterator[Path]:
    yield from recorded(record)


def _ingest(store: Store, log: Path):
    time.sleep(max(0.0, QUIET_SECONDS - (time.time() - log.stat().st_mtime)))  # the log has gone quiet
    return Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(log)


def _cli(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["--database", url, *args]) == 0
    return json.loads(capsys.readouterr().out)


def _answer(diagnosis: dict) -> tuple[str, str, str | None]:
    verdict = diagnosis["verdict"]
    zone = diagnosis["findings"][0]["dnsbl_zone"] if diagnosis["findings"] else None
    return verdict["reason"], verdict["cause"], zone


def _outcomes(store: Store) -> list[Event]:
    with store.session() as session:
        return list(session.scalars(select(Event).where(Event.disposition.in_(
            ("delivered", "bounced", "deferred", "rejected", "deleted")))))


def test_each_outcome_is_counted_once_across_the_filters_queue_ids(store: Store, sites_log: Path) -> None:
    result = _ingest(store, sites_log)
    assert result.stats.unrecognised == {}, result.stats.examples
    assert result.stats.skipped == 0, result.stats.examples
    text = sites_log.read_text()
    in_log = set(re.findall(r"\]: ([0-9A-F]+): client=", text))
    hops = [m for m in map(_QUEUED_AS.search, text.splitlines()) if m and m.group("next") in in_log]
    assert len(hops) == 9, "the content filter re-injected 8 messages (one of them for two recipients)"
    outcomes = _outcomes(store)
    # no message lost: every outcome line is an event, but a hand-over to the filter is no outcome of its own
    assert len(outcomes) == sum(1 for line in text.splitlines() if _OUTCOME.search(line)) - len(hops)
    # no outcome counted twice: one final outcome per message x recipient the sender wrote, across queue ids
    finals = Counter((e.sender, e.recipient) for e in outcomes if e.disposition != "deferred" and e.sender)
    assert [k for k, n in finals.items() if n > 1] == []
    assert {c.sender for c in CASES} <= {e.sender for e in outcomes}


def test_why_gives_every_case(store: Store, db_url: str, sites_log: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    _ingest(store, sites_log)
    outcomes = _outcomes(store)
    wrong = []
    for case in CASES:
        diagnosis = _cli(db_url, capsys, "why", case.sender, "--json", "--no-live", "--since", "3650d")
        got = _answer(diagnosis)
        expected = (case.expected_reason, case.expected_cause, case.dnsbl_zone)
        finding = diagnosis["findings"][0] if diagnosis["findings"] else None
        problems = []
        if got != expected:
            problems.append(f"got {got}, expected {expected}")
        elif finding:
            if finding["direction"] != case.direction:
                problems.append(f"direction {finding['direction']}")
            if set(finding["recipients"]) != set(case.recipients):
                problems.append(f"recipients {finding['recipients']}, expected {list(case.recipients)}")
            if case.client_ip not in finding["client_ips"]:
                problems.append(f"client IPs {finding['client_ips']}, expected {case.client_ip}")
        else:  # delivered: every delivery names the address the sender wrote
            mine = {e.recipient for e in outcomes if e.sender == case.sender}
            if mine != set(case.recipients):
                problems.append(f"recipients {sorted(mine)}, expected {list(case.recipients)}")
        if problems:
            wrong.append(f"{case.case} {case.sender}: {'; '.join(problems)} -- {case.note}")
    assert not wrong, f"{len(CASES) - len(wrong)} of {len(CASES)} right:\n" + "\n".join(wrong)


def _written_recipients(text: str) -> set[str]:
    """The distinct recipients of the log's status=sent lines as the senders wrote them: orig_to where the line
    has one, else, on a filtered message's second queue id, the orig_to its hand-over line gave that address."""
    wrote: dict[tuple[str, str], str] = {}  # (next queue id, to=) -> orig_to
    found = set()
    for line in text.splitlines():
        match = _SENT.search(line)
        if match is None:
            continue
        qid, to, orig = match.group("qid", "to", "orig")
        onward = _QUEUED_AS.search(line)
        if onward and orig:
            wrote[(onward.group("next"), to)] = orig
        found.add(orig or wrote.get((qid, to), to))
    return found


def test_report_totals_equal_pflogsumms(store: Store, db_url: str, sites_log: Path,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """pflogsumm counts both queue ids of a filtered message (received twice, delivered at the hand-over to the
    filter and again at the mailbox): the report does the same (docs/report.md). Recipients are the one figure
    that differs, as documented: pflogsumm counts the final to= address, the store the address the sender wrote
    (orig_to, carried over to the filter's second queue id)."""
    binary = require_binary("pflogsumm")
    monkeypatch.setenv("BOUNCEBOT_DIGEST_TIMEZONE", "UTC")
    monkeypatch.setenv("TZ", "UTC")
    _ingest(store, sites_log)
    theirs, their_hours = run_pflogsumm(binary, sites_log)
    with store.session() as session:
        day = min(session.scalars(select(Event.time))).date()
    report = _cli(db_url, capsys, "report", "--date", day.isoformat(), "--json")
    ours = {name: str(report["totals"][name]) for name in theirs if name in report["totals"]}
    assert len(ours) >= 15
    text = sites_log.read_text()
    theirs = {name: value.strip() for name, value in theirs.items() if name in ours}
    assert theirs["recipients"] == str(len(set(re.findall(r": to=<([^>]*)>,.* status=sent ", text))))
    theirs["recipients"] = str(len(_written_recipients(text)))
    assert ours == theirs
    our_hours = [[f"{h['hour']:02d}", *(str(h[c]) for c in ("received", "delivered", "deferred", "bounced",
                                                              "rejected"))] for h in report["hours"]]
    assert our_hours == their_hours
