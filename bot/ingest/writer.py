"""Event batches stored by a second process, so that making rows and storing them use two cores.

Ingestion is two halves of similar CPU cost: turning input into event rows (parsing a Postfix log, mapping TMEMS
records) and storing them (binding every value, maintaining the table's unique key and indexes). In one process
the halves add up; a writer *thread* does not help, because the Python around each row's insert needs the GIL
back after every row and waits behind the busy parsing thread (measured: wall time = the sum of both halves).
Here the storing runs in a process of its own. Callers start one for large volumes only (a spawn costs a few
tenths of a second); a few rows are cheaper to store in place.

Each batch is one transaction with its `then`: a picklable callable given the connection, for what must commit
with the rows (the cursor that says they were read). Batches are stored in order. A batch travels in chunks
(`send_rows` while it is being made, the rest with `submit`), which the writer inserts as they come inside the
batch's open transaction: neither process ever holds a whole batch. After one fails, the writer skips every
later batch until the caller has collected the failure (`drain`), so no cursor moves past rows that were not
stored. If the caller dies, the writer sees its pipe close, rolls back the batch it was not told to commit, and
exits; if the writer dies, the caller gets WriterError.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.reduction import ForkingPickler
from typing import Any

from sqlalchemy import Connection, Engine

from storage.db import StoreError, make_engine
from storage.queries import Row, insert_events

log = logging.getLogger(__name__)

#: Batches sent but not yet answered before `submit` waits for the writer.
IN_FLIGHT = 2
#: Rows per message down the pipe, and how many messages may wait to be sent: what the caller holds pickled.
CHUNK_ROWS = 2500
QUEUED_CHUNKS = 4
#: How long `close` lets the writer finish what it was sent before killing it.
CLOSE_SECONDS = 60.0

Then = Callable[[Connection], None]
#: What makes a storable row of each row the caller sends, in the writer (e.g. bot.events.finish_values): work
#: moved off the caller's process, which is the busier one. A module-level function (it is pickled by name).
Finish = Callable[[Any], Row]

_RESET = "reset"


class WriterError(StoreError):
    """The writer process could not start, or died."""


def engine_url(engine: Engine) -> str:
    """The URL a writer process opens to reach the same database (password included: it goes down a pipe)."""
    return engine.url.render_as_string(hide_password=False)


def store_here(engine: Engine, rows: Sequence[Any], then: Then | None = None, *, finish: Finish | None = None) -> int:
    """A batch stored in the calling process, as the writer process stores one: the rows (each through `finish`,
    if given) and `then` in one transaction. Returns how many rows were new."""
    with engine.begin() as connection:
        new = insert_events(connection, [finish(row) for row in rows] if finish is not None else rows)
        if then is not None:
            then(connection)
    return new


class WriterProcess:
    """A process that stores (rows, then) batches, one transaction each, in the order they were submitted."""

    def __init__(self, url: str, *, in_flight: int = IN_FLIGHT, finish: Finish | None = None) -> None:
        context = multiprocessing.get_context("spawn")  # never fork: callers run threads (the bot's scheduler)
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, url, finish), name="bouncebot-writer",
                                        daemon=True)
        self._process.start()
        child.close()
        self.in_flight = max(1, in_flight)
        self._unanswered: deque[Any] = deque()  # the tag of every batch sent and not yet answered
        self.committed: list[Any] = []  # the tags (not None) of the batches committed, in order: the caller's to take
        self._new = 0
        self._error: BaseException | None = None
        self._error_tag: Any = None
        self.failed_tag: Any = None  # the tag of the batch whose failure `drain` raised last
        self._closed = False
        # Batches are pickled by the caller and written to the pipe by this thread, which waits (without the
        # GIL) while the writer is busy or still starting: the caller goes on making the next batch meanwhile.
        self._outbox: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._sender = threading.Thread(target=self._send_all, name="bouncebot-writer-pipe", daemon=True)
        self._sender.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def send_rows(self, rows: Sequence[Any]) -> None:
        """Send rows of the batch being made (inserted at once in its open transaction; committed by `submit`)."""
        for start in range(0, len(rows), CHUNK_ROWS):
            self._put(("rows", list(rows[start:start + CHUNK_ROWS])))

    def submit(self, rows: Sequence[Any] = (), then: Then | None = None, tag: Any = None) -> None:
        """Send the batch's last rows and commit it with `then` (the caller may reuse `rows` at once). `tag` stays
        in this process: what the caller wants back in `committed` or as `failed_tag` (None: nothing is kept).
        Waits while `in_flight` batches are unanswered. Raises the failure of an earlier batch as soon as it is
        known (this batch is then not sent), and WriterError if the writer is gone."""
        while len(self._unanswered) >= self.in_flight or (self._unanswered and self._conn.poll()):
            self._answer()
        if self._error is not None:  # a batch failed: say so now, not after the caller has read everything
            self._raise_failure()
        self.send_rows(rows)
        # `then` is pickled apart: should it not unpickle in the writer, that is this batch's failure
        self._put(("commit", None if then is None else pickle.dumps(then, pickle.HIGHEST_PROTOCOL)))
        self._unanswered.append(tag)

    def drain(self) -> int:
        """Wait until every batch sent is answered; return how many new rows they stored. Raises the first
        failure since the last drain (the writer then accepts batches again)."""
        while self._unanswered:
            self._answer()
        if self._error is not None:
            self._raise_failure()
        new, self._new = self._new, 0
        return new

    def _raise_failure(self) -> None:
        """Raise the first failure since the last one raised; the writer accepts batches again after it."""
        error, self._error = self._error, None
        self.failed_tag = self._error_tag  # the rows of batches committed before it are still counted by drain
        self._send(_RESET)
        assert error is not None
        raise error

    def close(self) -> None:
        """Let the writer store what it was sent, then stop it (killed if it takes longer than CLOSE_SECONDS)."""
        if self._closed:
            return
        self._closed = True
        self._send(None)
        self._sender.join(CLOSE_SECONDS)
        self._process.join(CLOSE_SECONDS)
        if self._process.is_alive():
            log.error("the writer process did not stop in %.0f s: killed", CLOSE_SECONDS)
            self._process.kill()
            self._process.join(5)
        self._conn.close()

    def __enter__(self) -> WriterProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _put(self, message: Any, patience: float | None = None) -> None:
        """Queue a message for the pipe; waits while QUEUED_CHUNKS wait (at most `patience` seconds, if given)."""
        payload = None if message is None else ForkingPickler.dumps(message)
        deadline = None if patience is None else time.monotonic() + patience
        while True:
            if (self._closed and message is not None) or not self._sender.is_alive():
                raise self._gone(BrokenPipeError("the pipe to the writer is closed"))
            if deadline is not None and time.monotonic() > deadline:
                raise WriterError(f"the writer process took no message for {patience:.0f} s")
            try:
                self._outbox.put(payload, timeout=0.5)
                return
            except queue.Full:
                continue

    def _send(self, message: Any) -> None:
        """Send a control message (None: stop; _RESET), unless the writer is gone or no longer reading."""
        try:
            self._put(message, patience=CLOSE_SECONDS)
        except WriterError:
            return

    def _send_all(self) -> None:
        """The pipe's only writer: sends what `submit` queued, in order, until None (then the writer stops)."""
        while True:
            payload = self._outbox.get()
            try:
                if payload is None:
                    self._conn.send(None)
                    return
                self._conn.send_bytes(payload)
            except (OSError, ValueError):  # the writer is gone: the caller learns it reading its answers
                return

    def _answer(self) -> None:
        """Read one message from the writer: a batch's answer (counted) or its start-up report."""
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._gone(exc) from exc
        if kind == "ready":
            return
        if kind == "failed":  # could not start: nothing sent will ever be answered
            raise WriterError(f"the writer process could not open the store: {value}")
        tag = self._unanswered.popleft()
        if kind == "ok":
            self._new += value
            if tag is not None:
                self.committed.append(tag)
        elif kind == "error" and self._error is None:
            self._error, self._error_tag = value, tag

    def _gone(self, exc: BaseException) -> WriterError:
        self._process.join(1)
        code = self._process.exitcode
        return WriterError(f"the writer process died (exit code {code}); the batches it had not stored are "
                           f"read again on the next run ({type(exc).__name__})")


def _serve(conn: Any, url: str, finish: Finish | None = None) -> None:
    """The writer process: open the store, then store batches from the pipe until None or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle; it closes the pipe
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
    except Exception as exc:
        _reply(conn, ("failed", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
        return
    _reply(conn, ("ready", os.getpid()))
    batch = _Batch(engine, finish)
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the caller is gone: the open batch rolls back
                return
            if message is None:
                return
            if message == _RESET:
                batch.failed, batch.error = False, None
                continue
            kind, value = message
            try:
                if kind == "rows":
                    batch.insert(value)
                else:
                    _reply(conn, batch.commit(value))
            except Exception as exc:  # anything else that broke: this batch's failure, never the process's end
                batch.failed, batch.error = True, batch.error or exc
                if kind != "rows":
                    _reply(conn, ("error", batch.error))
                    batch.error = None
    finally:
        batch.close()
        # The process ends here: a pool whose database went away may fail to close its connections; the caller
        # has been told the failure (or is gone), and nothing is left uncommitted that could be lost.
        with contextlib.suppress(Exception):
            engine.dispose()


class _Batch:
    """The writer's open transaction: chunks are inserted as they arrive, `commit` runs `then` and commits.
    After a failure every later chunk is dropped and every commit answered as failed, until the caller resets."""

    def __init__(self, engine: Engine, finish: Finish | None = None) -> None:
        self.engine = engine
        self.finish = finish
        self.connection: Connection | None = None
        self.new = 0
        self.failed = False
        self.error: BaseException | None = None  # not yet reported to the caller

    def _open(self) -> Connection:
        if self.connection is None:
            self.connection = self.engine.connect()
            self.connection.begin()
        return self.connection

    def insert(self, rows: list[Any]) -> None:
        if self.failed:
            return
        try:
            finish = self.finish
            self.new += insert_events(self._open(), [finish(row) for row in rows] if finish is not None else rows)
        except Exception as exc:
            self._fail(exc)

    def commit(self, then_pickled: bytes | None) -> tuple[str, Any]:
        if self.failed:
            error, self.error = self.error, None
            return ("error", error) if error is not None else ("skipped", None)
        try:
            connection = self._open()
            if then_pickled is not None:
                pickle.loads(then_pickled)(connection)  # noqa: S301 - our caller's own pickle, on a private pipe
            connection.commit()
        except Exception as exc:
            self._fail(exc)
            error, self.error = self.error, None
            return "error", error
        new = self.new
        self.close()
        return "ok", new

    def _fail(self, exc: BaseException) -> None:
        self.failed, self.error = True, exc
        self.close()

    def close(self) -> None:
        """End the open transaction (rolled back if it was not committed). A connection the database dropped
        cannot roll back: that is the failure already recorded, or becomes it."""
        connection, self.connection, self.new = self.connection, None, 0
        if connection is None:
            return
        try:
            connection.close()
        except Exception as exc:
            if not self.failed:
                self.failed, self.error = True, exc


def _reply(conn: Any, message: tuple[str, Any]) -> None:
    try:
        conn.send(message)
    except (EOFError, OSError):
        return  # the caller is gone
    except Exception as exc:  # an exception that does not pickle: its text does
        kind, value = message
        conn.send((kind, RuntimeError(f"{type(value).__name__}: {value} ({type(exc).__name__} sending it)")))
