"""50 processes at once: ingesting the same file, and clicking Approve on the same sender.

Each process opens its own engine after the fork, so the database sees 50 independent clients racing on the
same rows (events' (source_key, time), the file's cursor, approvals' request and active keys).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import approvals, audit
from bot.ingest.runner import Ingestor
from bot.store import Store
from storage.db import make_engine, session_factory
from storage.models import ApprovedSender, AuditEntry, IngestCursor
from tests.faults.forked import run_in_processes
from tests.faults.loggen import write_log
from tests.faults.procs import event_rows, report

N = 50
LINES = 1_500


def _open(url: str) -> Store:
    """A store for one racing process: its own engine; the schema was migrated once by the fixture, so the
    50 processes skip Alembic's check (50 reads of the migration scripts would dominate the run)."""
    engine = make_engine(url)
    return Store(engine=engine, sessions=session_factory(engine))


def _errors(results: dict[int, tuple[str, object]]) -> list[str]:
    return [str(value) for status, value in results.values() if status != "ok"]


@pytest.mark.slow
def test_fifty_concurrent_ingests_of_one_file_store_each_event_once(db_url: str, tmp_path: Path) -> None:
    log = write_log(tmp_path / "mail.log", LINES, seed=50)
    expected_url = f"sqlite:///{tmp_path / 'expected.db'}"
    alone = Store.open(expected_url)
    try:
        expected_new = Ingestor(alone, "postfix").ingest(log).new_events
    finally:
        alone.dispose()

    def ingest(_index: int) -> int:
        store = _open(db_url)
        try:
            return Ingestor(store, "postfix").ingest(log).new_events
        finally:
            store.dispose()

    started = time.monotonic()
    results = run_in_processes(N, ingest)
    seconds = time.monotonic() - started
    assert not _errors(results), _errors(results)[0]
    new_counts = [value for _status, value in results.values()]
    assert sum(new_counts) == expected_new  # every event stored by exactly one of the 50
    rows = event_rows(db_url)
    assert len(rows) == expected_new
    assert rows == event_rows(expected_url)

    store = Store.open(db_url)
    try:
        with store.session() as session:
            cursors = session.scalars(select(IngestCursor)).all()
    finally:
        store.dispose()
    assert len(cursors) == 1 and cursors[0].offset == log.stat().st_size
    report("concurrent_ingest", backend=db_url.split(":")[0], processes=N, lines=LINES, events=len(rows),
           processes_that_stored_events=sum(1 for n in new_counts if n), seconds=round(seconds, 1))


@pytest.mark.parametrize("same_request", [True, False], ids=["one-button-50-clicks", "50-buttons-one-pattern"])
def test_fifty_concurrent_approvals_of_one_sender_yield_one(db_url: str, same_request: bool) -> None:
    def click(index: int) -> tuple[bool, str, int]:
        store = _open(db_url)
        try:
            with store.session() as session:
                outcome = approvals.approve(
                    session, pattern="Billing@Partner.example", reason="trusted partner", actor=f"U{index:03d}",
                    request_key="approve:C1:1700000000.000100" if same_request else f"approve:C1:17000.{index}",
                    channel="C1", message_ts="1700000000.000100")
                return outcome.created, outcome.winner_actor, outcome.approval.id
        finally:
            store.dispose()

    started = time.monotonic()
    results = run_in_processes(N, click)
    seconds = time.monotonic() - started
    assert not _errors(results), _errors(results)[0]
    outcomes = [value for _status, value in results.values()]
    winners = [o for o in outcomes if o[0]]
    assert len(winners) == 1
    winner_actor, approval_id = winners[0][1], winners[0][2]
    assert all(o[1] == winner_actor and o[2] == approval_id for o in outcomes)  # the losers are told who won

    store = Store.open(db_url)
    try:
        with store.session() as session:
            rows = session.scalars(select(ApprovedSender)).all()
            trail = Counter(e.outcome for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == audit.APPROVE)))
    finally:
        store.dispose()
    assert [(r.pattern, r.approved_by) for r in rows] == [("billing@partner.example", winner_actor)]
    assert trail == {audit.DONE: 1, audit.DUPLICATE: N - 1}
    report("concurrent_approve", backend=db_url.split(":")[0], processes=N, same_request=same_request,
           approvals=len(rows), audit=dict(trail), seconds=round(seconds, 1))
