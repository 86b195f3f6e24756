"""What every log source shares: the parser protocol, its counters, and content-derived source keys.

A log source is a detector in the flufl.bounce sense: one module per source, one protocol, and an explicit
registry (bot.ingest.SOURCES). The runner knows nothing about Postfix or JSON; it feeds lines and stores
what comes back, together with the parser's pending state, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any, Protocol

from bot.events import TrackingEvent

#: What a parser returns for a line that produced nothing (shared, never mutated).
NO_EVENTS: tuple[TrackingEvent, ...] = ()

#: How many examples of each kind of skipped line are kept for --verbose.
MAX_EXAMPLES = 5


@dataclass
class ParseStats:
    """Counters of one ingestion: lines seen, events made, lines skipped (with a few examples)."""

    lines: int = 0
    events: int = 0
    skipped: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)
    #: Lines that belong to a message (they name its queue id) in a shape the parser neither reads nor ignores on
    #: purpose, per kind: the next unknown shape is seen in the summary, not lost.
    unrecognised: dict[str, int] = field(default_factory=dict)

    def skip(self, kind: str, line: str, where: str = "") -> None:
        """Count a line that could not be used; keep the first few of each kind as examples."""
        self.skipped += 1
        kept = self.examples.setdefault(kind, [])
        if len(kept) < MAX_EXAMPLES:
            kept.append(f"{where}{line[:300]}")

    def unrecognise(self, kind: str, line: str) -> None:
        """Count a message's line of an unknown shape (also a skipped line; its first example is the first seen)."""
        self.unrecognised[kind] = self.unrecognised.get(kind, 0) + 1
        self.skip(kind, line)


class LogParser(Protocol):
    """One log source: lines in (without their newline), tracking events out.

    `snapshot()` returns the pending state (JSON-serialisable) so that a resumed run, given the same
    remaining lines after `restore()`, produces exactly the events an uninterrupted run would have.
    A parser may also have `settle() -> Sequence[TrackingEvent]`: the runner calls it at the end of a file that
    has gone quiet, for the events it keeps waiting on a later line that is not coming (bot.ingest.postfix).
    """

    source: str
    stats: ParseStats

    def feed(self, line: str) -> Sequence[TrackingEvent]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


class KeyMaker:
    """Content-derived, deterministic source keys.

    The key hashes the line itself (and the inferred year), so the same file ingested again, even under
    another path, produces the same keys. Identical lines within the same second (a client retrying the
    same RCPT) are told apart by how often that line was already seen at that time stamp; the window is
    one time stamp wide, so memory stays constant.
    """

    __slots__ = ("_seen", "_source", "_stamp")

    def __init__(self, source: str) -> None:
        self._source = source
        self._stamp = ""
        self._seen: dict[str, int] = {}

    def key(self, stamp: str, line: str, index: int = 0) -> str:
        """The key of the `index`-th event made from `line` (seen at `stamp`)."""
        if stamp != self._stamp:
            self._stamp = stamp
            self._seen = {}
        if index == 0:
            occurrence = self._seen.get(line, 0)
            self._seen[line] = occurrence + 1
        else:
            occurrence = self._seen.get(line, 1) - 1
        digest = blake2b(f"{stamp}\x00{line}\x00{occurrence}\x00{index}".encode(), digest_size=16).hexdigest()
        return f"{self._source}:{digest}"

    def snapshot(self) -> dict[str, Any]:
        return {"stamp": self._stamp, "seen": dict(self._seen)}

    def restore(self, state: dict[str, Any]) -> None:
        self._stamp = str(state.get("stamp", ""))
        self._seen = {str(k): int(v) for k, v in (state.get("seen") or {}).items()}
