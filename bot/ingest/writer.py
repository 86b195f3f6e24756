"""Event batches stored by a second process, so that making rows and storing them use two cores.

Ingestion is two halves of similar CPU cost: turning input into event rows (parsing a Postfix log, mapping TMEMS
records) and storing them (binding every value, maintaining the table's unique key and indexes). In one process
the halves add up; a writer *thread* does not help, because the Python around each row's insert needs the GIL
back after every row and waits behind the busy parsing thread (measured: wall time = the sum of both halves).
Here the storing runs in a process of its own. Callers start one for large volumes only (a spawn costs a few
tenths of a second); a few rows are cheaper to store in place.

Each batch is one transaction with its `then`: a picklable callable given the connection, for what must commit
with the rows (the cursor that says they were read). Batches are stored in order. After one fails, the writer
skips every later batch until the caller has collected the failure (`drain`), so no cursor moves past rows that
were not stored. If the caller dies, the writer sees its pipe close and exits after the batch in hand (which
commits whole or not at all); if the writer dies, the caller gets WriterError.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.reduction import ForkingPickler
from typing import Any

from sqlalchemy import Connection, Engine

from storage.db import StoreError, make_engine
from storage.queries import insert_events

log = logging.getLogger(__name__)

#: Batches sent but not yet answered before `submit` waits for the writer (each batch is held by the pipe or
#: the writer, so this bounds the memory the two processes hold together).
IN_FLIGHT = 2
#: How long `close` lets the writer finish what it was sent before killing it.
CLOSE_SECONDS = 60.0

Then = Callable[[Connection], None]

_RESET = "reset"


class WriterError(StoreError):
    """The writer process could not start, or died."""


def engine_url(engine: Engine) -> str:
    """The URL a writer process opens to reach the same database (password included: it goes down a pipe)."""
    return engine.url.render_as_string(hide_password=False)


class WriterProcess:
    """A process that stores (rows, then) batches, one transaction each, in the order they were submitted."""

    def __init__(self, url: str, *, in_flight: int = IN_FLIGHT) -> None:
        context = multiprocessing.get_context("spawn")  # never fork: callers run threads (the bot's scheduler)
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, url), name="bouncebot-writer", daemon=True)
        self._process.start()
        child.close()
        self.in_flight = max(1, in_flight)
        self._unanswered: deque[tuple[Then | None, str | None]] = deque()  # (then, tag) of batches not answered
        self.committed: list[Then] = []  # the `then` of every batch committed, in order (the caller takes them)
        self._new = 0
        self._error: BaseException | None = None
        self._error_tag: str | None = None
        self.failed_tag: str | None = None  # the tag of the batch whose failure `drain` raised last
        self._closed = False
        # Batches are pickled by the caller and written to the pipe by this thread, which waits (without the
        # GIL) while the writer is busy or still starting: the caller goes on making the next batch meanwhile.
        self._outbox: queue.SimpleQueue[bytes | memoryview | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="bouncebot-writer-pipe", daemon=True)
        self._sender.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def submit(self, rows: Sequence[Mapping[str, Any]], then: Then | None = None, tag: str | None = None) -> None:
        """Send a batch (the caller may reuse `rows` at once; `tag` stays here and names the batch if it fails).
        Waits while `in_flight` batches are unanswered; never raises for a failed batch (that is `drain`'s),
        only WriterError if the writer is gone."""
        while len(self._unanswered) >= self.in_flight or (self._unanswered and self._conn.poll()):
            self._answer()
        if self._closed or not self._sender.is_alive():
            raise self._gone(BrokenPipeError("the pipe to the writer is closed"))
        self._outbox.put(ForkingPickler.dumps((list(rows), then)))
        self._unanswered.append((then, tag))

    def drain(self) -> int:
        """Wait until every batch sent is answered; return how many new rows they stored. Raises the first
        failure since the last drain (the writer then accepts batches again)."""
        while self._unanswered:
            self._answer()
        new, self._new = self._new, 0
        error, self._error = self._error, None
        if error is not None:
            self.failed_tag = self._error_tag
            self._send(_RESET)
            raise error
        return new

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

    def _send(self, message: Any) -> None:
        self._outbox.put(None if message is None else ForkingPickler.dumps(message))

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
        then, tag = self._unanswered.popleft()
        if kind == "ok":
            self._new += value
            if then is not None:
                self.committed.append(then)
        elif kind == "error" and self._error is None:
            self._error, self._error_tag = value, tag

    def _gone(self, exc: BaseException) -> WriterError:
        self._process.join(1)
        code = self._process.exitcode
        return WriterError(f"the writer process died (exit code {code}); the batches it had not stored are "
                           f"read again on the next run ({type(exc).__name__})")


def _serve(conn: Any, url: str) -> None:
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
    failed = False
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the caller is gone
                return
            except Exception as exc:  # a batch that does not unpickle here
                failed = True
                _reply(conn, ("error", exc))
                continue
            if message is None:
                return
            if message == _RESET:
                failed = False
                continue
            if failed:
                _reply(conn, ("skipped", None))
                continue
            rows, then = message
            try:
                with engine.begin() as connection:
                    new = insert_events(connection, rows)
                    if then is not None:
                        then(connection)
            except Exception as exc:
                failed = True
                _reply(conn, ("error", exc))
            else:
                _reply(conn, ("ok", new))
    finally:
        engine.dispose()


def _reply(conn: Any, message: tuple[str, Any]) -> None:
    try:
        conn.send(message)
    except (EOFError, OSError):
        return  # the caller is gone
    except Exception as exc:  # an exception that does not pickle: its text does
        kind, value = message
        conn.send((kind, RuntimeError(f"{type(value).__name__}: {value} ({type(exc).__name__} sending it)")))
