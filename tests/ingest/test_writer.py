"""The writer process (bot.ingest.writer) on real SQLite and PostgreSQL: order, transactions, failures, deaths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bench.postfix_synth import generate
from bot.config import Settings
from bot.ingest.runner import Ingestor, SaveCursor
from bot.ingest.tmems_map import Mapper
from bot.ingest.writer import WriterError, WriterProcess
from bot.store import Store
from storage.models import Event, IngestCursor
from tests.ingest.test_ingest_runner import count, stored
from tests.support import store_refusing_sender
from tests.tmems.records import samples

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)


def _rows() -> list[dict]:
    mapper = Mapper(Settings())
    return [e.as_row() for s in samples(NOW) for e in mapper.map(s.kind, s.record)]


def _save(offset: int) -> SaveCursor:
    return SaveCursor("postfix", "/var/log/test.log", 1, offset, {"at": offset})


def _cursor(store: Store) -> int | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(IngestCursor.offset))


def test_batches_are_stored_in_order_each_with_its_cursor(store: Store, db_url: str) -> None:
    rows = _rows()
    first, second = _save(1), _save(2)
    with WriterProcess(db_url) as writer:
        writer.submit(rows[:3], first, tag="first")
        writer.submit(rows[3:], second, tag="second")
        writer.submit(rows, None)  # every key already stored: nothing new
        assert writer.drain() == len(rows)
        assert writer.committed == ["first", "second"]  # tags come back; untagged batches leave nothing behind
        assert writer.drain() == 0  # counted once
    assert count(store) == len(rows) and _cursor(store) == 2


def test_the_writer_finishes_raw_rows_as_the_caller_would(store: Store, db_url: str) -> None:
    """With `finish`, the caller sends TrackingEvent.raw_values() and the writer makes the value rows (addresses
    lowercased, domain columns derived): the same rows as as_values() stored in place."""
    from bot.events import finish_values
    from bot.ingest.writer import store_here

    events = [e for s in samples(NOW) for e in Mapper(Settings()).map(s.kind, s.record)]
    for event in events:
        event.sender = (event.sender or "").upper() or None  # as a log may write it
    half = len(events) // 2
    with WriterProcess(db_url, finish=finish_values) as writer:
        writer.submit([e.raw_values() for e in events[:half]], _save(1))
        assert writer.drain() == half
    assert store_here(store.engine, [e.raw_values() for e in events[half:]], finish=finish_values) == len(events) - half
    with store.engine.connect() as conn:
        got = sorted(conn.execute(select(Event.source_key, Event.sender, Event.sender_domain,
                                         Event.sender_domain_rev, Event.recipient_domain)).all())
    named = [e.as_row() for e in events]
    assert got == sorted((r["source_key"], r["sender"], r["sender_domain"], r["sender_domain_rev"],
                          r["recipient_domain"]) for r in named)
    assert any(sender and sender.islower() for _key, sender, *_ in got)


@pytest.fixture
def refusing(sqlite_url: str) -> Iterator[tuple[Store, list[dict], dict]]:
    """A store whose database refuses one sender (a trigger), the sample rows, and a row from that sender."""
    store = store_refusing_sender(sqlite_url)
    rows = _rows()
    yield store, rows, dict(rows[0], sender="boom@x.example", source_key="tmems:test:boom")
    store.dispose()


def test_a_failed_batch_stops_every_later_one_until_the_caller_has_seen_it(refusing, sqlite_url: str) -> None:
    store, rows, bad = refusing
    with WriterProcess(sqlite_url) as writer:
        writer.submit(rows[:2], _save(1), tag=1)
        writer.submit([bad, *rows[2:4]], _save(2), tag=2)  # refused by the database: rolled back
        with pytest.raises(Exception, match="refused by the test trigger") as raised:
            # the failure comes back at the next submit or at drain, whichever comes after the writer reported
            # it; a batch submitted after the failure is skipped: its cursor must not pass the refused rows
            writer.submit(rows[4:6], _save(3), tag=3)
            writer.drain()
        assert type(raised.value).__name__ == "IntegrityError"  # the database's own error, across the pipe
        assert writer.committed == [1] and writer.failed_tag == 2
        assert count(store) == 2 and _cursor(store) == 1
        with store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER boom"))
        writer.submit(rows[2:], _save(4))  # the failure was collected: the writer stores again
        assert writer.drain() == len(rows)  # the first batch's 2 rows are counted too, none lost to the error
    assert count(store) == len(rows) and _cursor(store) == 4


def test_a_writer_that_died_is_a_clear_error(store: Store, db_url: str) -> None:
    writer = WriterProcess(db_url)
    try:
        writer.submit(_rows()[:1], _save(1))
        assert writer.drain() == 1
        os.kill(writer.pid, signal.SIGKILL)
        with pytest.raises(WriterError, match="the writer process died"):
            writer.submit(_rows()[1:], _save(2))
            writer.drain()
    finally:
        writer.close()
    assert _cursor(store) == 1


def test_a_writer_that_cannot_open_the_store_says_so(tmp_path: Path) -> None:
    with WriterProcess(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}") as writer:
        writer.submit(_rows()[:1])
        with pytest.raises(WriterError, match=r"could not open the store.*folder .* does not exist"):
            writer.drain()


CALLER = """
import os, signal, sys
from bot.ingest.writer import WriterProcess
from bot.ingest.runner import SaveCursor
from tests.ingest.test_writer import _rows
if __name__ == "__main__":
    writer = WriterProcess(sys.argv[1])
    rows = _rows()
    writer.submit(rows[:3], SaveCursor("postfix", "/var/log/test.log", 1, 1, {}))
    writer.drain()
    writer.submit(rows[3:], SaveCursor("postfix", "/var/log/test.log", 1, 2, {}))
    print(writer.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited (whoever adopted it has not reaped it yet)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc (Linux)")
def test_the_writer_exits_when_its_caller_is_killed_and_leaves_whole_batches(store: Store, db_url: str,
                                                                             tmp_path: Path) -> None:
    script = tmp_path / "caller.py"
    script.write_text(CALLER)
    proc = subprocess.run([sys.executable, str(script), db_url], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pid = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, "the writer outlived its caller"
        time.sleep(0.05)
    total = len(_rows())
    # The second batch was stored whole with its cursor, or not at all: never rows without their cursor.
    assert (count(store), _cursor(store)) in {(3, 1), (total, 2)}


def test_a_large_file_is_stored_by_a_writer_process_exactly_as_in_place(db_url: str, tmp_path: Path) -> None:
    log = tmp_path / "maillog"
    log.write_text("".join(line + "\n" for line in generate(600, seed=11)))
    in_place_store = Store.open(f"sqlite:///{tmp_path / 'in-place.db'}")
    store = Store.open(db_url)
    try:
        in_place = Ingestor(in_place_store, "postfix").ingest(log)
        assert in_place.writer_pid is None
        batched = Ingestor(store, "postfix", batch_lines=300).ingest(log)
        assert batched.writer_pid is not None and not _alive(batched.writer_pid)  # used, then stopped
        assert batched.new_events == in_place.new_events == count(store) > 600
        assert stored(store) == stored(in_place_store)
        assert _cursor(store) == log.stat().st_size
    finally:
        store.dispose()
        in_place_store.dispose()


def test_a_store_failure_mid_file_keeps_the_cursor_before_it_and_a_rerun_completes(sqlite_url: str,
                                                                                  tmp_path: Path) -> None:
    log = tmp_path / "maillog"
    lines = list(generate(600, seed=12))
    log.write_text("".join(line + "\n" for line in lines))
    reference = Store.open(f"sqlite:///{tmp_path / 'reference.db'}")
    Ingestor(reference, "postfix").ingest(log)
    with reference.engine.connect() as conn:  # a sender of an event two thirds into the file
        senders = list(conn.scalars(select(Event.sender).where(Event.sender.is_not(None)).order_by(Event.time)))
    refused = senders[len(senders) * 2 // 3]
    store = store_refusing_sender(sqlite_url, sender=refused)
    try:
        with pytest.raises(Exception, match="refused by the test trigger"):
            Ingestor(store, "postfix", batch_lines=200).ingest(log)
        with store.engine.connect() as conn:
            kept = conn.scalar(select(func.count()).select_from(Event).where(Event.sender == refused))
        assert kept == 0 and 0 < (_cursor(store) or 0) < log.stat().st_size
        with store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER boom"))
        before = _cursor(store)
        rerun = Ingestor(store, "postfix", batch_lines=200).ingest(log)
        assert rerun.resumed_at == before
        assert stored(store) == stored(reference)
    finally:
        store.dispose()
        reference.dispose()


def test_rows_sent_ahead_land_only_with_their_batchs_commit(store: Store, db_url: str) -> None:
    """Chunks sent while a batch is made are inserted in its open transaction: a writer that dies before the
    commit leaves none of them behind; committed, they are counted with the batch."""
    rows = _rows()
    writer = WriterProcess(db_url)
    try:
        writer.send_rows(rows[:3])
        writer.send_rows(rows[3:5])
        writer.submit(rows[5:], _save(1))
        assert writer.drain() == len(rows) and count(store) == len(rows)
        writer.send_rows([dict(r, source_key=r["source_key"] + ":2") for r in rows])
        time.sleep(0.5)  # time to insert them (uncommitted)
        os.kill(writer.pid, signal.SIGKILL)
        with pytest.raises(WriterError):
            writer.submit((), _save(2))
            writer.drain()
    finally:
        writer.close()
    assert count(store) == len(rows) and _cursor(store) == 1


def test_a_failure_is_raised_by_the_next_submit_not_only_at_the_end(refusing, sqlite_url: str) -> None:
    """A long read learns of a refused batch at its next batch, not after reading everything."""
    store, rows, bad = refusing
    with WriterProcess(sqlite_url) as writer:
        writer.submit([bad], _save(1), tag="bad")
        deadline = time.monotonic() + 30
        with pytest.raises(Exception, match="refused by the test trigger"):
            while time.monotonic() < deadline:
                writer.submit(rows[:1], _save(2))
                time.sleep(0.05)
        assert writer.failed_tag == "bad"
        assert writer.drain() == 0  # the batches sent after it were skipped, none was stored
    assert count(store) == 0 and _cursor(store) is None


def test_a_large_rotated_file_then_a_large_new_one_share_one_writer(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finishing the rotated file starts the writer (a full batch); the new file's large read must not start a
    second one beside it."""
    from bot.ingest import runner

    monkeypatch.setattr(runner, "WRITER_BYTES", 64 * 1024)
    started: list[int] = []

    class Counted(WriterProcess):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self.pid or 0)

    monkeypatch.setattr(runner, "WriterProcess", Counted)
    lines = list(generate(3000, seed=4))
    log = tmp_path / "maillog"
    log.write_text("\n".join(lines[:50]) + "\n")
    store = Store.open(sqlite_url)
    try:
        Ingestor(store, "postfix").ingest(log)  # small: stored in place, the cursor names this inode
        with log.open("a") as handle:
            handle.write("\n".join(lines[50:10_000]) + "\n")
        log.rename(tmp_path / "maillog.1")
        log.write_text("\n".join(lines[10_000:]) + "\n")
        result = Ingestor(store, "postfix", batch_lines=500).ingest(log)
        assert any("finished the rotated file" in note for note in result.notes)
        assert len(started) == 1
        reference = Store.open(f"sqlite:///{tmp_path / 'reference.db'}")
        whole = tmp_path / "whole.log"
        whole.write_text("\n".join(lines) + "\n")
        Ingestor(reference, "postfix").ingest(whole)
        assert stored(store) == stored(reference)
        reference.dispose()
    finally:
        store.dispose()
