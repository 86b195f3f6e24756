"""SIGKILL at any moment, then run again: the store ends with exactly the uninterrupted run's events."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from bench.postfix_synth import write_log
from bot.store import Store
from storage import bulk
from storage.models import Event, IngestCursor

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = (Event.source_key, Event.time, Event.direction, Event.disposition, Event.sender, Event.recipient,
           Event.client_ip, Event.queue_id, Event.message_id, Event.smtp_code, Event.enhanced_status,
           Event.reply_text, Event.reason, Event.cause, Event.dnsbl_zone, Event.nrcpt, Event.size)


#: Run before the CLI in the bulk variant: this test's 4 MB log counts as a bulk load (storage.bulk), so the event
#: indexes are dropped at the start of each run and built at its end, and the kills land in between.
BULK = ("import bot.ingest.runner as r, storage.bulk as b; r.WRITER_BYTES = 1; r.BYTES_PER_EVENT = 1; "
        "b.BULK_MIN_ROWS = 1; ")


def bouncebot(url: str, *args: str, prelude: str = "") -> subprocess.Popen:
    code = prelude + "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, "--database", url, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(url: str) -> list[tuple]:
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(select(*COLUMNS)))
    finally:
        store.dispose()


def deferred(url: str) -> list[str]:
    store = Store.open(url)
    try:
        return bulk.deferred_indexes(store.engine)
    finally:
        store.dispose()


def cursor_offset(url: str) -> int:
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            return conn.scalar(select(IngestCursor.offset)) or 0
    finally:
        store.dispose()


@pytest.mark.slow
def test_sigkill_mid_file_then_rerun_equals_an_uninterrupted_run(db_url: str, tmp_path: Path) -> None:
    kill_and_rerun(db_url, tmp_path)


@pytest.mark.slow
def test_sigkill_during_a_bulk_load_then_rerun_equals_an_uninterrupted_run_and_ends_indexed(
        sqlite_url: str, tmp_path: Path) -> None:
    kill_and_rerun(sqlite_url, tmp_path, prelude=BULK)
    store = Store.open(sqlite_url)
    try:
        assert bulk.deferred_indexes(store.engine) == []
        assert {str(ix.name) for ix in Event.__table__.indexes} <= {
            ix["name"] for ix in inspect(store.engine).get_indexes("events")}
    finally:
        store.dispose()


def kill_and_rerun(db_url: str, tmp_path: Path, prelude: str = "") -> None:
    log = tmp_path / "maillog"
    lines = write_log(log, 5000, seed=5)
    size = log.stat().st_size
    reference_url = f"sqlite:///{tmp_path / 'uninterrupted.db'}"
    done = bouncebot(reference_url, "ingest", "postfix", str(log))
    assert done.wait(300) == 0, done.stderr.read()
    expected = rows(reference_url)
    assert len(expected) > 5000

    rng = random.Random(20261130)
    kills = killed_deferred = 0
    for share in (0.15, 0.4, 0.7):
        proc = bouncebot(db_url, "ingest", "postfix", str(log), "--batch", "300", prelude=prelude)
        deadline = time.monotonic() + 240
        while cursor_offset(db_url) < share * size and proc.poll() is None:
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
        time.sleep(rng.random() * 0.2)  # anywhere: inside a batch, inside a commit
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            if prelude:
                killed_deferred += bool(deferred(db_url))
        proc.wait(30)
        assert cursor_offset(db_url) < size
    assert kills >= 2
    assert killed_deferred == (kills if prelude else 0)  # each kill left a store whose indexes were dropped
    final = bouncebot(db_url, "ingest", "postfix", str(log), "--batch", "300", prelude=prelude)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    assert "resumed at byte" in out
    assert rows(db_url) == expected
    assert cursor_offset(db_url) == size
    again = bouncebot(db_url, "ingest", "postfix", str(log))
    out, _err = again.communicate(timeout=120)
    assert ": 0 lines, 0 events (0 new)" in out
    assert lines > 30_000
