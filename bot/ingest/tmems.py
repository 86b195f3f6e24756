"""Trend Micro Email Security as a tracking source: poll its log API into the tracking store.

The API only hands out the last 72 hours, so bouncebot polls and keeps its own 30 days. Each stream (accepted
traffic, blocked traffic, policy events) keeps a cursor in the database: the end of the last window fully
fetched and stored. A poll fetches from that end (minus an overlap, for records the API publishes late) up to
now, in windows of an hour; the cursor moves only after a whole window is stored, so a window that failed is
fetched again on the next run, and the overlap adds nothing because every record has a deterministic key.
A cursor older than the API's 72 hours means data was lost for good: that is reported loudly, never skipped
silently.

    summary = poll_once(store, settings)          # what the scheduler calls every tmems_poll_minutes
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.ingest.tmems_client import (
    MAIL_TRACKING_PATH,
    PAGE_LIMIT,
    POLICY_EVENT_PATH,
    TmemsClient,
    TmemsError,
    TmemsSetupError,
    TmemsUnreachable,
    iso,
)
from bot.ingest.tmems_map import ACCEPTED, BLOCKED, POLICY, SOURCE, BadRecord, Mapper
from bot.ingest.tmems_store import FLUSH_ROWS, EventSink
from bot.ingest.writer import WriterError
from bot.store import Store
from bot.timeutil import utcnow
from storage import cursors

log = logging.getLogger(__name__)

#: How far back the API answers, and a margin: it counts its 72 hours from when it receives the request.
API_RETENTION = timedelta(hours=72)
RETENTION_MARGIN = timedelta(minutes=5)
#: One window per request series; the cursor moves after each, so a failure costs at most one window.
#: (The overlap re-read before the cursor is Settings.tmems_overlap_minutes.)
DEFAULT_WINDOW = timedelta(hours=1)
#: How many lost-data gaps a cursor remembers (for `bouncebot` status and diagnosis notes).
_GAPS_KEPT = 20


@dataclass(frozen=True)
class Stream:
    name: str  # the record kind and the cursor's stream name
    path: str
    params: Mapping[str, str]


#: Policy events first: a Quarantined or Deleted tracking record fetched later in the same poll takes the reason
#: of its policy event (joined by message ID and recipient, bot.ingest.tmems_map.Mapper).
STREAMS: tuple[Stream, ...] = (
    Stream(POLICY, POLICY_EVENT_PATH, {}),
    Stream(ACCEPTED, MAIL_TRACKING_PATH, {"type": "accepted_traffic"}),
    Stream(BLOCKED, MAIL_TRACKING_PATH, {"type": "blocked_traffic"}),
)


@dataclass(frozen=True)
class Gap:
    """A stretch of a stream's log that is older than the API's 72 hours and was never fetched: lost."""

    stream: str
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def __str__(self) -> str:
        return (f"TMEMS {self.stream}: LOST DATA from {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC "
                f"({self.hours:.1f} h): the last successful poll is older than the API's 72 hours")


@dataclass
class PollSummary:
    """What one poll did; `errors` and `gaps` are also logged as errors."""

    records: int = 0    # records fetched from the API
    new: int = 0        # events stored that were not stored before
    windows: int = 0    # windows fetched completely (cursor moved)
    pages: int = 0
    skipped: int = 0    # malformed records
    unmapped: int = 0   # records whose action/reason no table knows (stored as undefined)
    gaps: list[Gap] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped: bool = False  # a setup error (401/403/404): nothing more will work until someone fixes it
    unreachable: bool = False  # the service never answered: the poll stopped at once (the next one tries again)
    cursors: dict[str, datetime] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.gaps

    @property
    def unusable(self) -> bool:
        """The service could not be used at all (unreachable, or refusing us): the error says what to check."""
        return self.stopped or self.unreachable

    def line(self) -> str:
        text = (f"TMEMS poll: {self.records} records, {self.new} new events, {self.windows} windows, "
                f"{self.pages} pages")
        if self.skipped:
            text += f", {self.skipped} malformed skipped"
        if self.unmapped:
            text += f", {self.unmapped} unmapped"
        if self.gaps:
            text += f", {len(self.gaps)} LOST-DATA gap(s)"
        if self.errors:
            text += f", {len(self.errors)} error(s)"
        return text


def windows(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] cut into consecutive windows of at most `size`."""
    while start < end:
        stop = min(start + size, end)
        yield start, stop
        start = stop


# --- cursor ----------------------------------------------------------------------------------------------------
def load_cursor(conn: Connection | Session, stream: str) -> tuple[datetime | None, dict[str, Any]]:
    """The end of the last window stored for a stream, and the cursor's state."""
    saved = cursors.load(conn, SOURCE, stream)
    state = dict(saved.state or {}) if saved is not None else {}
    if not state:
        return None, {}
    end = state.get("end")
    return (datetime.fromisoformat(end) if isinstance(end, str) else None), state


def save_cursor(conn: Connection | Session, stream: str, end: datetime, *, gaps: Sequence[Gap] = (),
                records: int = 0) -> None:
    """Move a stream's cursor forward to `end` (never back: two pollers racing cannot undo each other)."""
    current, state = load_cursor(conn, stream)
    if current is not None and current > end:
        end = current
    lost = list(state.get("lost", []))
    lost.extend({"start": g.start.isoformat(), "end": g.end.isoformat()} for g in gaps)
    state.update(end=end.isoformat(), lost=lost[-_GAPS_KEPT:], records=int(state.get("records", 0)) + records)
    cursors.save(conn, SOURCE, stream, state)


@dataclass(frozen=True)
class CursorMove:
    """save_cursor as a value: it commits with a window's last rows, maybe in the writer process."""

    stream: str
    end: datetime
    gaps: tuple[Gap, ...] = ()
    records: int = 0

    def __call__(self, conn: Connection) -> None:
        save_cursor(conn, self.stream, self.end, gaps=self.gaps, records=self.records)


# --- polling ---------------------------------------------------------------------------------------------------
def poll_once(
    store: Store,
    settings: Settings,
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    client: TmemsClient | None = None,
    overlap: timedelta | None = None,
    window: timedelta = DEFAULT_WINDOW,
    streams: Sequence[Stream] = STREAMS,
    flush_rows: int = FLUSH_ROWS,
) -> PollSummary:
    """Fetch every stream from its cursor minus the overlap (or `since`, if that reaches further back) up to now.

    Never raises for what the API answers: errors, setup problems and lost data are in the summary (and
    logged). Raises ConfigError when TMEMS is not configured.
    """
    now = now or utcnow()
    if overlap is None:
        overlap = timedelta(minutes=max(0, settings.tmems_overlap_minutes))
    own_client = client is None
    client = client or TmemsClient.from_settings(settings)
    summary = PollSummary()
    mapper = Mapper(settings)
    sink = EventSink(store, flush_rows)  # one for every stream: a large poll starts one writer process, not three
    try:
        for stream in streams:
            sink.label = stream.name
            try:
                _poll_stream(store, client, mapper, sink, stream, summary, now=now, since=since, overlap=overlap,
                             window=window)
            except TmemsSetupError as exc:
                summary.errors.append(str(exc))
                summary.stopped = True
                log.error("%s", exc)
                break
            except TmemsUnreachable as exc:  # every stream is on the same host: do not try the others
                summary.errors.append(str(exc))
                summary.unreachable = True
                log.error("%s", exc)
                break
            except TmemsError as exc:
                message = f"TMEMS {stream.name}: {exc}; the unfinished window is fetched again on the next run"
                summary.errors.append(message)
                log.error("%s", message)
            except (SQLAlchemyError, WriterError) as exc:  # a write of this stream, or one before it still stored
                _store_failed(summary, sink.failed_label or stream.name, exc)
        _settle(sink, summary)
    finally:
        sink.close()
        if own_client:
            client.close()
    summary.unmapped = mapper.unmapped
    log.info("%s", summary.line())
    return summary


def _store_failed(summary: PollSummary, stream: str, exc: BaseException, *, later: str = "") -> None:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    message = (f"TMEMS {stream}: the tracking store refused a write ({type(exc).__name__}: {reason}); the unfinished "
               f"window is fetched again on the next run{later}")
    summary.errors.append(message)
    log.error("%s", message)


def _settle(sink: EventSink, summary: PollSummary) -> None:
    """Wait for the writer process's last writes and count the windows whose cursor was committed. (A failed write
    is raised by the write itself when stored in place; in the writer process, by the next write or here, named
    after the stream of the batch that failed, and the writes sent before it was known are not stored either.)"""
    try:
        summary.new += sink.flush()
    except (SQLAlchemyError, WriterError) as exc:
        _store_failed(summary, sink.failed_label or "?", exc,
                      later=" (the writes sent after it were not stored either: fetched again too)")
    finally:
        for move in sink.take_committed():
            if isinstance(move, CursorMove):
                summary.windows += 1
                summary.cursors[move.stream] = move.end
                log.debug("TMEMS %s: window up to %s stored", move.stream, iso(move.end))


def _poll_stream(store: Store, client: TmemsClient, mapper: Mapper, sink: EventSink, stream: Stream,
                 summary: PollSummary, *, now: datetime, since: datetime | None, overlap: timedelta,
                 window: timedelta) -> None:
    earliest = now - API_RETENTION + RETENTION_MARGIN
    with store.session() as session:
        cursor_end, _state = load_cursor(session, stream.name)
    gaps: list[Gap] = []
    if cursor_end is None:
        start = since or (now - API_RETENTION)
    else:
        start = cursor_end - overlap
        if since is not None and since < start:
            start = since
        if cursor_end < earliest:
            gap = Gap(stream.name, cursor_end, earliest)
            gaps.append(gap)
            summary.gaps.append(gap)
            log.error("%s", gap)
    if start < earliest:
        if since is not None and since < earliest:
            summary.warnings.append(f"TMEMS {stream.name}: the API keeps 72 hours; fetching from "
                                    f"{earliest:%Y-%m-%d %H:%M} UTC instead of {since:%Y-%m-%d %H:%M} UTC")
        start = earliest
    for window_start, window_end in windows(start, now, window):
        fetched = _fetch_window(client, mapper, stream, summary, sink, window_start, window_end)
        # the window's last rows and its cursor: one transaction (in the writer process, if this poll started one,
        # which stores it while the next window is fetched; poll_once waits for it at the end)
        summary.new += sink.flush(CursorMove(stream.name, window_end, tuple(gaps), fetched), wait=False)
        gaps = []


def _fetch_window(client: TmemsClient, mapper: Mapper, stream: Stream, summary: PollSummary, sink: EventSink,
                  start: datetime, end: datetime) -> int:
    """Fetch every page of one window into the sink (flushing as it fills); returns the records fetched.

    On an API failure the rows already fetched are still stored (the window is fetched again anyway)."""
    params = {**stream.params, "start": iso(start), "end": iso(end), "limit": str(PAGE_LIMIT)}
    fetched = 0
    try:
        for logs in prefetch(client.pages(stream.path, params)):
            summary.pages += 1
            fetched += len(logs)
            summary.records += len(logs)
            rows = mapper.rows
            for record in logs:
                try:
                    sink.add_all(rows(stream.name, record))  # what map() + TrackingEvent.as_row() give, made directly
                except (BadRecord, TypeError, ValueError) as exc:
                    summary.skipped += 1
                    log.debug("TMEMS %s: skipped a malformed record: %s", stream.name, exc)
            sink.page_done()  # a full buffer is stored by the writer process while the next page is mapped
    except TmemsError:
        summary.new += sink.flush(wait=False)  # what was fetched is kept (the window is fetched again anyway)
        raise
    return fetched


def prefetch(pages: Iterator[list[dict[str, Any]]], depth: int = 2) -> Iterator[list[dict[str, Any]]]:
    """Fetch the next pages in a thread while this one is mapped and stored: the round trip to the region's API
    (tens of milliseconds a page from most networks) and the server's time overlap with ours. Exceptions reach
    the consumer in order; a consumer that stops early stops the thread."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: tuple[str, Any]) -> bool:
        while not stop.is_set():  # never block for good: the consumer may be gone
            try:
                box.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not offer(("page", page)):
                    return
            offer(("end", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(("error", exc))

    worker = threading.Thread(target=produce, name="tmems-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "page":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        worker.join(timeout=5)
