"""The ingestion runner on real SQLite and PostgreSQL: idempotence, cursors, rotation, follow."""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from sqlalchemy import func, select

from bench.postfix_synth import generate
from bot.ingest.postfix import PostfixParser
from bot.ingest.runner import Ingestor
from bot.store import Store
from storage.models import Event, IngestCursor

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "data" / "sample-maillog.log"
COLUMNS = (Event.source_key, Event.time, Event.direction, Event.disposition, Event.sender, Event.recipient,
           Event.client_ip, Event.queue_id, Event.smtp_code, Event.reply_text, Event.reason, Event.cause)


def stored(store: Store) -> set[tuple]:
    with store.engine.connect() as conn:
        return {tuple(row) for row in conn.execute(select(*COLUMNS))}


def count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Event)) or 0


def expected_rows(lines: list[str], reference: datetime) -> set[tuple]:
    parser = PostfixParser(reference=reference)
    names = [c.key for c in COLUMNS]
    return {tuple(row[n] for n in names)
            for row in (e.as_row() for line in lines for e in parser.feed(line))}


def test_reingesting_the_same_file_or_a_copy_adds_nothing(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "maillog"
    shutil.copy(SAMPLE, log)
    first = Ingestor(store, "postfix").ingest(log)
    assert first.new_events == first.stats.events == count(store) > 20
    again = Ingestor(store, "postfix").ingest(log)
    assert (again.stats.lines, again.new_events, again.resumed_at) == (0, 0, log.stat().st_size)
    copy = tmp_path / "elsewhere.log"
    shutil.copy2(log, copy)
    third = Ingestor(store, "postfix").ingest(copy)
    assert (third.stats.events, third.new_events) == (first.stats.events, 0)
    assert count(store) == first.new_events


def test_a_growing_file_resumes_at_its_cursor_with_the_parser_state(store: Store, tmp_path: Path) -> None:
    lines = list(generate(400, seed=7))
    log = tmp_path / "maillog"
    cuts = [0, 313, 1200, 1201, 2000, len(lines)]
    ingestor = Ingestor(store, "postfix", batch_lines=97)
    with open(log, "w") as out:
        for start, end in pairwise(cuts):
            out.write("".join(line + "\n" for line in lines[start:end]))
            out.flush()
            result = ingestor.ingest(log)
            assert result.resumed_at == (0 if start == 0 else sum(len(x) + 1 for x in lines[:start]))
            assert result.stats.lines == end - start
    with store.engine.connect() as conn:
        reference = datetime.fromisoformat(conn.scalar(select(IngestCursor.state))["reference"])
    assert stored(store) == expected_rows(lines, reference)
    assert count(store) == len(expected_rows(lines, reference)) > 400


def test_malformed_lines_are_counted_and_shown_not_fatal(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "maillog"
    sample = SAMPLE.read_bytes()
    cut = sample.index(b"\n", 2000) + 1
    log.write_bytes(sample[:cut] + b"\xff\xfe garbage \x00 line\n\nNov 99 xx\n"
                    + b"Nov 27 09:00:01 mx1 sshd[5]: Accepted publickey for root\n" + sample[cut:])
    result = Ingestor(store, "postfix").ingest(log)
    assert result.stats.skipped == 4
    assert set(result.stats.examples) == {"malformed", "other program"}
    assert any("garbage" in e for e in result.stats.examples["malformed"])
    assert result.new_events == count(store) > 20


def test_rotation_between_runs_finishes_the_old_file_first(store: Store, tmp_path: Path) -> None:
    lines = list(generate(200, seed=3))
    log = tmp_path / "maillog"
    log.write_text("".join(x + "\n" for x in lines[:500]))
    Ingestor(store, "postfix").ingest(log)
    with open(log, "a") as out:  # Postfix kept writing until logrotate moved the file
        out.write("".join(x + "\n" for x in lines[500:800]))
    os.rename(log, tmp_path / "maillog.1")
    log.write_text("".join(x + "\n" for x in lines[800:]))
    result = Ingestor(store, "postfix").ingest(log)
    assert any("maillog.1" in note for note in result.notes)
    with store.engine.connect() as conn:
        reference = datetime.fromisoformat(conn.scalar(select(IngestCursor.state))["reference"])
    assert stored(store) == expected_rows(lines, reference)


def _cursor_offset(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(IngestCursor.offset)) or 0


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_follow_survives_rotation_and_truncation(store: Store, tmp_path: Path) -> None:
    lines = list(generate(300, seed=11))
    parts = [lines[:400], lines[400:700], lines[700:1000], lines[1000:1300], lines[1300:]]
    log = tmp_path / "maillog"
    log.write_text("".join(x + "\n" for x in parts[0]))
    ingestor = Ingestor(store, "postfix", batch_lines=50)
    results = []
    worker = threading.Thread(target=lambda: results.append(ingestor.ingest(log, follow=True)), daemon=True)
    worker.start()
    try:
        reference = datetime.now(UTC)
        seen = lambda upto: count(store) == len(expected_rows(lines[:upto], reference))  # noqa: E731
        _wait_for(lambda: seen(400))
        with open(log, "a") as out:  # grows, with a line written in two pieces
            text = "".join(x + "\n" for x in parts[1])
            out.write(text[:-30])
            out.flush()
            time.sleep(0.6)
            out.write(text[-30:])
        _wait_for(lambda: seen(700))
        os.rename(log, tmp_path / "maillog.1")  # rotation: late lines go to the old file, then a new one
        with open(tmp_path / "maillog.1", "a") as out:
            out.write("".join(x + "\n" for x in parts[2]))
        log.write_text("".join(x + "\n" for x in parts[3]))
        _wait_for(lambda: seen(1300))
        with open(log, "r+") as out:  # copytruncate
            out.truncate(0)
        _wait_for(lambda: _cursor_offset(store) == 0)  # noticed before anything new is written
        with open(log, "a") as out:
            out.write("".join(x + "\n" for x in parts[4]))
        _wait_for(lambda: seen(len(lines)))
    finally:
        ingestor.stop_requested = True
        worker.join(10)
    assert not worker.is_alive()
    result = results[0]
    assert result.rotations == 2
    assert stored(store) == expected_rows(lines, reference)
    assert result.stats.skipped == 0


def test_a_file_truncated_between_runs_is_read_again_from_its_start(store: Store, tmp_path: Path) -> None:
    lines = list(generate(100, seed=13))
    log = tmp_path / "maillog"
    log.write_text("".join(x + "\n" for x in lines[:600]))
    Ingestor(store, "postfix").ingest(log)
    with open(log, "r+") as out:  # copytruncate while we were not running, then a little new mail
        out.truncate(0)
        out.write("".join(x + "\n" for x in lines[600:]))
    result = Ingestor(store, "postfix").ingest(log)
    assert any("truncated" in note for note in result.notes)
    assert result.stats.lines == len(lines) - 600
    with store.engine.connect() as conn:
        reference = datetime.fromisoformat(conn.scalar(select(IngestCursor.state))["reference"])
    assert stored(store) == expected_rows(lines, reference)


def test_the_year_of_classic_stamps_comes_from_the_file_time_across_new_year(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "maillog"
    reject = ("{stamp} mx postfix/smtpd[7]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 550 5.1.1 <u@our.example>: "
              "Recipient address rejected: User unknown; from=<s@far.example> to=<u@our.example> proto=ESMTP "
              "helo=<x>\n")
    log.write_text(reject.format(stamp="Dec 31 23:59:59") + reject.format(stamp="Jan  1 00:00:01"))
    new_year = datetime(2027, 1, 1, 0, 5, tzinfo=UTC).timestamp()
    os.utime(log, (new_year, new_year))
    Ingestor(store, "postfix", parser_options={"tz": UTC}).ingest(log)
    with store.engine.connect() as conn:
        times = sorted(conn.scalars(select(Event.time)))
    assert times == [datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)]


def test_a_transaction_ends_after_batch_events_events_whatever_the_line_count(store: Store, tmp_path: Path) -> None:
    """Batches are bounded by events as well as lines: a log dense in events never holds a huge batch in memory."""
    log = tmp_path / "maillog"
    log.write_text("".join(line + "\n" for line in generate(200, seed=3)))
    commits: list[int] = []
    ingestor = Ingestor(store, "postfix", batch_lines=10**9, batch_events=25)
    original = ingestor._commit

    def counting_commit(parser, s, **options):  # type: ignore[no-untyped-def]
        commits.append(len(s.rows))
        return original(parser, s, **options)

    ingestor._commit = counting_commit  # type: ignore[method-assign]
    result = ingestor.ingest(log)
    assert result.new_events == count(store) > 100
    assert len(commits) >= result.new_events // 25 and max(commits) <= 25 + 10  # one line makes at most a few


def test_the_connection_that_inserts_events_gets_the_writer_page_cache(sqlite_url: str) -> None:
    from sqlalchemy import text

    from storage import queries
    store = Store.open(sqlite_url)
    with store.engine.begin() as conn:
        queries.insert_events(conn, [PostfixParser().feed(
            "Nov 30 06:26:26 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x.example[192.0.2.1]: 550 5.1.1 "
            "<a@b.example>: Recipient address rejected: User unknown; from=<s@x.example> to=<a@b.example> "
            "proto=ESMTP helo=<x.example>")[0].as_row()])
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -queries.SQLITE_WRITER_CACHE_KIB
    store.dispose()
