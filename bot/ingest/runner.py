"""Feed a log file to a parser and store its events, resumably.

Every batch is one transaction holding the batch's events AND the stream's cursor (inode, byte offset of
the next unread line, the parser's pending state). Whatever kills the process, the store holds either
the batch with its cursor or neither, so a rerun continues from exactly the line after the last batch with
exactly the parser state of that moment: no event lost, none twice (source keys make a repeat harmless
anyway). `follow` tails the file and survives rotation (a new inode at the path) and truncation.

A large read (WRITER_BYTES unread, or a first full batch) is stored by a writer process (bot.ingest.writer):
this process parses while that one stores, each batch still one transaction with its cursor.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection

from bot.events import finish_values
from bot.ingest import make_parser
from bot.ingest.base import LogParser, ParseStats
from bot.ingest.writer import CHUNK_ROWS, WriterProcess, engine_url, store_here
from bot.store import Store
from storage import bulk, cursors

log = logging.getLogger(__name__)

#: A transaction ends after this many lines or this many events, whichever comes first: large enough that the
#: commit and the index pages a batch dirties are amortised over many rows (2,300-event batches spent 1.8 times the
#: CPU of 10,000-event ones, most of it in system calls), small enough to keep a batch's rows in memory (~15 MB).
BATCH_LINES = 100_000
BATCH_EVENTS = 10_000
#: Unread bytes from which the writer process (bot.ingest.writer) starts with the read, not at the first full
#: batch: its start-up (a few tenths of a second) then overlaps the parsing of that batch (~40,000 lines, ~5 MB).
WRITER_BYTES = 8 * 1024 * 1024
#: While following: poll the file this often (what was read is committed before each pause).
FOLLOW_POLL = 0.25
#: Log bytes per event assumed when guessing how many rows a read brings (storage.bulk decides from it whether
#: to defer the event indexes): Postfix logs carry 500-1,000 bytes a recipient with the lines around it; the
#: higher figure guesses low, so the indexes are deferred only for a load that is surely large.
BYTES_PER_EVENT = 1000
#: A file not written for this long (wall clock) has no more lines coming for now: events a parser keeps waiting
#: for a later line (a Postfix message that never reached qmgr, waiting for cleanup's lines) are made then.
QUIET_SECONDS = 2.0


@dataclass
class IngestResult:
    """What one stream's ingestion did; `stats` are the parser's counters for the lines read this run."""

    path: str
    stats: ParseStats
    new_events: int = 0
    seconds: float = 0.0
    resumed_at: int = 0
    rotations: int = 0
    notes: list[str] = field(default_factory=list)
    writer_pid: int | None = None  # the writer process that stored full batches (bot.ingest.writer), if any
    indexes_built: list[str] = field(default_factory=list)  # event indexes deferred for a bulk load, built again

    @property
    def lines_per_second(self) -> float:
        return self.stats.lines / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[IngestResult, int, int], None]  # (result so far, bytes read, bytes total)


@dataclass
class _Cursor:
    inode: int | None
    offset: int
    state: dict[str, Any]


@dataclass
class _Stream:
    """The file being read: its path (the cursor's key), open handle, inode, offset and unsaved rows."""

    path: str
    handle: IO[bytes]
    inode: int = 0
    offset: int = 0
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # TrackingEvent.raw_values(), finished by the store
    sent: int = 0  # rows of the open batch already sent to the writer process (bot.ingest.writer)


class Ingestor:
    """Ingests files of one source into a store (one cursor per file, keyed by its real path)."""

    def __init__(self, store: Store, source: str, *, batch_lines: int = BATCH_LINES,
                 batch_events: int = BATCH_EVENTS, parser_options: dict[str, Any] | None = None) -> None:
        self.store = store
        self.source = source
        self.batch_lines = batch_lines
        self.batch_events = batch_events
        self.parser_options = dict(parser_options or {})
        self.stop_requested = False
        self._writer: WriterProcess | None = None
        self._deferred: list[str] = []  # event indexes dropped for this bulk load (storage.bulk)

    # -- cursor ------------------------------------------------------------------------------------

    def _load_cursor(self, stream: str) -> _Cursor | None:
        with self.store.engine.connect() as conn:
            row = cursors.load(conn, self.source, stream)
        if row is None:
            return None
        return _Cursor(row.inode, int(row.offset or 0), dict(row.state or {}))

    def _commit(self, parser: LogParser, s: _Stream, *, wait: bool = True) -> int:
        """One transaction: the events read since the last commit and the cursor just after them. Returns the
        new events among the commits known to have finished (with `wait`, all of them).

        Without `wait` (a full batch, mid-file), the batch goes to a writer process, started on the first such
        batch, which stores it while the next is parsed; its count comes with the next waiting commit, a failure
        with the next commit. Small reads (a short file, what `--follow` finds each poll) are stored in place."""
        save = SaveCursor(self.source, s.path, s.inode, s.offset,
                          {"parser": parser.snapshot(), "reference": parser_reference(parser).isoformat()})
        if self._writer is None and not wait:
            self._start_writer()
        if self._writer is not None:
            self._writer.submit(s.rows, save)
            s.rows.clear()
            s.sent = 0
            return self._writer.drain() if wait else 0
        new = store_here(self.store.engine, s.rows, save, finish=finish_values)
        s.rows.clear()
        return new

    def _start_writer(self) -> WriterProcess:
        """The writer process of this run (finishing a large rotated file may have started it already)."""
        if self._writer is None:
            self._writer = WriterProcess(engine_url(self.store.engine), finish=finish_values)
        return self._writer

    def _build_indexes(self, result: IngestResult | None) -> None:
        """Build the event indexes this bulk load deferred (call it once everything it sent is committed); a result
        records them, with a note."""
        self._deferred = []
        started = time.monotonic()
        built = bulk.restore_indexes(self.store.engine)
        if result is not None and built:
            result.indexes_built = built
            result.notes.append(f"built the {len(built)} event indexes deferred for this bulk load "
                                f"in {time.monotonic() - started:.1f} s")

    # -- reading -----------------------------------------------------------------------------------

    def ingest(self, path: str | Path, *, follow: bool = False, progress: Progress | None = None,
               from_start: bool = False) -> IngestResult:
        """Read `path` from its cursor to the end (and on, when following). Raises OSError if unreadable.

        `from_start` forgets the file's cursor and reads it from its first line: its skipped lines are counted
        (and shown) again, and the events stored before are recognised by their source keys, not added twice."""
        stream = os.path.realpath(path)
        handle = open(stream, "rb")  # noqa: SIM115 - kept open across rotations, closed below
        result: IngestResult | None = None
        try:
            result = self._run(_Stream(stream, handle), follow, progress, from_start)
            return result
        finally:
            handle.close()
            if self._writer is not None:  # commits what it was told to (each batch with its cursor), then stops
                self._writer.close()
                self._writer = None
            if self._deferred and result is not None:
                self._build_indexes(result)
            elif self._deferred:  # failing already: try, and leave them to the next run if the store refuses too
                try:
                    self._build_indexes(None)
                except Exception as exc:
                    log.warning("the event indexes deferred for this load were not built (%s); the next ingestion "
                                "or `bouncebot db upgrade` builds them", type(exc).__name__)

    def _run(self, s: _Stream, follow: bool, progress: Progress | None, from_start: bool = False) -> IngestResult:
        info = os.fstat(s.handle.fileno())
        s.inode = info.st_ino
        cursor = None if from_start else self._load_cursor(s.path)
        reference = datetime.fromtimestamp(info.st_mtime, UTC)
        if cursor is not None and cursor.state.get("reference"):
            reference = max(reference, datetime.fromisoformat(cursor.state["reference"]))
        parser = make_parser(self.source, reference=reference, **self.parser_options)
        if cursor is not None and cursor.state.get("parser"):
            parser.restore(cursor.state["parser"])
        result = IngestResult(path=s.path, stats=parser.stats)
        started = time.monotonic()
        must_save = cursor is None
        if cursor is not None and cursor.inode == info.st_ino and cursor.offset <= info.st_size:
            s.offset = result.resumed_at = cursor.offset
        elif cursor is not None and cursor.inode == info.st_ino:
            result.notes.append("the file is shorter than at the last run (truncated): read from its start")
            must_save = True
        elif cursor is not None:
            self._finish_rotated(parser, s, cursor, result, progress)
            must_save = True
        s.handle.seek(s.offset)
        unread = info.st_size - s.offset
        if unread >= WRITER_BYTES:  # a large read: the writer starts while the first batch is read
            self._deferred = bulk.defer_indexes(self.store.engine, unread // BYTES_PER_EVENT)
            result.writer_pid = self._start_writer().pid
        else:  # what a bulk load stopped before its end left deferred, if anything (one small query otherwise)
            self._build_indexes(result)
        while True:
            unsaved = self._read_to_end(parser, s, result, partial_ok=not follow, progress=progress)
            if self._settle(parser, s) or unsaved or must_save:
                result.new_events += self._commit(parser, s)
                must_save = False
            if self._deferred and not self.stop_requested:  # caught up: lookups get their indexes before following
                if self._writer is not None:
                    result.new_events += self._writer.drain()
                self._build_indexes(result)
            result.seconds = time.monotonic() - started
            if progress:
                progress(result, s.offset, max(s.offset, os.fstat(s.handle.fileno()).st_size))
            if not follow or self.stop_requested:
                return result
            time.sleep(FOLLOW_POLL)
            set_reference(parser, datetime.now(UTC))
            change = _rotated(s)
            if change == "truncated":
                s.offset = 0
                s.handle.seek(0)
                must_save = True
                result.rotations += 1
                result.notes.append("the file was truncated: read again from its start")
            elif change == "replaced":
                # Finish the old file first (Postfix may have written to it after the rename), then switch.
                if self._read_to_end(parser, s, result, partial_ok=True, progress=None):
                    result.new_events += self._commit(parser, s)
                s.handle.close()
                s.handle = open(s.path, "rb")  # noqa: SIM115
                s.inode, s.offset = os.fstat(s.handle.fileno()).st_ino, 0
                must_save = True
                result.rotations += 1
                result.notes.append("the file was rotated: following the new one")

    def _read_to_end(self, parser: LogParser, s: _Stream, result: IngestResult, *, partial_ok: bool,
                     progress: Progress | None) -> bool:
        """Feed every complete line; commit each full batch. True if lines are left uncommitted."""
        pending = 0
        feed, rows = parser.feed, s.rows
        batch_lines, batch_events = self.batch_lines, self.batch_events
        for raw, end in _lines(s.handle, s.offset, partial_ok=partial_ok):
            s.offset = end
            for event in feed(raw.decode("utf-8", "replace").rstrip("\r\n")):
                rows.append(event.raw_values())
            if len(rows) >= CHUNK_ROWS and self._writer is not None:  # on its way while the batch is made
                self._writer.send_rows(rows)
                s.sent += len(rows)
                rows.clear()
            pending += 1
            if pending >= batch_lines or len(rows) + s.sent >= batch_events:
                result.new_events += self._commit(parser, s, wait=False)
                result.writer_pid = self._writer.pid if self._writer else None
                pending = 0
                if progress:
                    progress(result, s.offset, max(s.offset, os.fstat(s.handle.fileno()).st_size))
            if self.stop_requested:
                break
        return pending > 0

    @staticmethod
    def _settle(parser: LogParser, s: _Stream) -> bool:
        """At the end of a file that has gone quiet, the events the parser still waits on; True if any."""
        settle = getattr(parser, "settle", None)
        if settle is None or time.time() - os.fstat(s.handle.fileno()).st_mtime < QUIET_SECONDS:
            return False
        events = settle()
        s.rows.extend(event.raw_values() for event in events)
        return bool(events)

    def _finish_rotated(self, parser: LogParser, s: _Stream, cursor: _Cursor, result: IngestResult,
                        progress: Progress | None) -> None:
        """The cursor's file is no longer at the path: finish it where rotation put it, then start the new one."""
        old = _find_by_inode(s.path, cursor.inode)
        if old is None:
            result.notes.append("the file was replaced since the last run and the old one was not found next to it:"
                                " read the new one from its start")
            return
        with open(old, "rb") as handle:
            # Cursor saves name the old inode until it is done, so a kill here resumes in the old file.
            previous = _Stream(s.path, handle, cursor.inode, cursor.offset, s.rows)
            handle.seek(cursor.offset)
            if self._read_to_end(parser, previous, result, partial_ok=True, progress=progress):
                result.new_events += self._commit(parser, previous)
        result.notes.append(f"finished the rotated file {old} first")


@dataclass(frozen=True)
class SaveCursor:
    """A file's cursor as a value: it commits with the batch read before it, maybe in the writer process."""

    source: str
    stream: str
    inode: int
    offset: int
    state: dict[str, Any]

    def __call__(self, conn: Connection) -> None:
        cursors.save(conn, self.source, self.stream, self.state, inode=self.inode, offset=self.offset)


def parser_reference(parser: LogParser) -> datetime:
    clock = getattr(parser, "clock", None)
    return clock.reference if clock is not None else datetime.now(UTC)


def set_reference(parser: LogParser, when: datetime) -> None:
    clock = getattr(parser, "clock", None)
    if clock is not None and when > clock.reference:
        clock.reference = when


#: How binary files start (PDF, zip, gzip, PNG, JPEG, GIF, ELF) and the control bytes no text log has.
BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF")
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def binary_reason(head: bytes) -> str | None:
    """Why the first bytes of a file say it is not a text log (as `explain` judges mail), or None."""
    if head.startswith(b"\x1f\x8b"):
        return "binary data, not a log (gzip-compressed: decompress it first, e.g. zcat FILE > FILE.log)"
    if head.startswith(BINARY_MAGIC) or len(_BINARY_CONTROL.findall(head)) > max(2, len(head) // 100):
        return "binary data, not a log"
    return None


def _lines(handle: IO[bytes], offset: int, *, partial_ok: bool) -> Iterator[tuple[bytes, int]]:
    """(line, offset after it) from the handle's position; an unterminated last line only if partial_ok."""
    for raw in handle:
        if not raw.endswith(b"\n") and not partial_ok:
            handle.seek(offset)  # the writer is mid-line: read it whole next time
            return
        offset += len(raw)
        yield raw, offset


def _rotated(s: _Stream) -> str | None:
    """'replaced' (a new inode at the path), 'truncated' (copytruncate) or None."""
    try:
        now = os.stat(s.path)
    except FileNotFoundError:
        return None  # between rename and create: look again next poll
    if now.st_ino != s.inode:
        return "replaced"
    if now.st_size < s.offset:
        return "truncated"
    return None


def _find_by_inode(stream: str, inode: int | None) -> str | None:
    if inode is None:
        return None
    folder, name = os.path.split(stream)
    try:
        entries = list(os.scandir(folder or "."))
    except OSError:
        return None
    for entry in entries:
        if entry.name != name and entry.name.startswith(name) and entry.inode() == inode and entry.is_file():
            return entry.path
    return None
